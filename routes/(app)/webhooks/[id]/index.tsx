import { Head, page } from "fresh";
import { z } from "zod";
import { define } from "../../../../utils.ts";
import { readFormObject } from "../../../../lib/http/form.ts";
import { hasRole, requireRole } from "../../../../lib/auth/roles.ts";
import { parseWith } from "../../../../lib/http/json.ts";
import { NotFound } from "../../../../lib/errors.ts";
import { isId } from "../../../../lib/ids.ts";
import { webhookDeps } from "../../../../lib/webhooks/notify.ts";
import {
  endpointDeliveries,
  removeEndpoint,
  rotateSecret,
  sendTestEvent,
  setEnabled,
} from "../../../../lib/webhooks/manage.ts";
import type { WebhookDelivery, WebhookEndpoint } from "../../../../lib/db/webhooks.ts";
import WebhookSecret from "../../../../islands/WebhookSecret.tsx";
import LiveSection from "../../../../islands/LiveSection.tsx";
import { putFlash, takeFlash } from "../../../../lib/db/flash.ts";
import { generationOfDelivery } from "../../../../components/generations.tsx";
import { When } from "../../../../components/time.tsx";

const ActionForm = z.object({
  action: z.enum(["rotate", "enable", "disable", "delete", "test"]),
});

const NOTICES: Record<string, string> = {
  test: "Test event queued. It appears below once sent; reload to see the attempt.",
  enabled: "Endpoint enabled.",
  disabled: "Endpoint disabled: it receives no new events until enabled again.",
};

interface Data {
  endpoint: WebhookEndpoint;
  deliveries: WebhookDelivery[];
  nextCursor: string | null;
  canManage: boolean;
  notice: string | null;
  /** Just rotated: the new secret, shown this once. */
  rotatedSecret?: string;
}

export const handler = define.handlers({
  async GET(ctx) {
    if (!isId("whe", ctx.params.id)) throw new NotFound("No such webhook endpoint", "id");
    const { services, org } = ctx.state;
    const cursor = ctx.url.searchParams.get("cursor");
    const r = await endpointDeliveries(webhookDeps(services), org!.id, ctx.params.id, cursor);
    const rotated = await takeFlash(
      services.kv,
      ctx.state.flashOwner!,
      ctx.url.searchParams.get("rotated"),
      "webhook_rotated",
      services.now(),
    );
    return page<Data>({
      endpoint: r.endpoint,
      deliveries: r.deliveries.data,
      nextCursor: r.deliveries.next_cursor,
      canManage: hasRole(ctx.state, "admin"),
      notice: NOTICES[ctx.url.searchParams.get("done") ?? ""] ?? null,
      rotatedSecret: rotated?.endpointId === r.endpoint.id ? rotated.secret : undefined,
    });
  },
  async POST(ctx) {
    if (!isId("whe", ctx.params.id)) throw new NotFound("No such webhook endpoint", "id");
    requireRole(ctx.state, "admin");
    const { services, org } = ctx.state;
    const deps = webhookDeps(services);
    const id = ctx.params.id;
    const { action } = parseWith(ActionForm, await readFormObject(ctx.req));
    switch (action) {
      case "rotate": {
        const { secret } = await rotateSecret(deps, org!.id, id);
        // POST → 303 → GET: a reload does not rotate again; the secret is a one-time flash.
        const flash = await putFlash(services.kv, ctx.state.flashOwner!, {
          kind: "webhook_rotated",
          endpointId: id,
          secret,
        }, services.now());
        return ctx.redirect(`/webhooks/${id}?rotated=${flash}`, 303);
      }
      case "enable":
      case "disable":
        await setEnabled(deps, org!.id, id, action === "enable");
        return ctx.redirect(`/webhooks/${id}?done=${action}d`, 303);
      case "delete":
        await removeEndpoint(deps, org!.id, id);
        return ctx.redirect("/webhooks", 303);
      case "test":
        await sendTestEvent(deps, org!.id, id);
        return ctx.redirect(`/webhooks/${id}?done=test`, 303);
      default:
        throw new Error(`Unhandled action ${action satisfies never}`);
    }
  },
});

function ActionButton(props: { action: string; label: string; danger?: boolean }) {
  return (
    <form method="post">
      <input type="hidden" name="action" value={props.action} />
      <button type="submit" class={props.danger ? "button danger" : "button"}>
        {props.label}
      </button>
    </form>
  );
}

function prettyJson(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function Delivery({ d, canManage }: { d: WebhookDelivery; canManage: boolean }) {
  return (
    <li class="card webhook-delivery" id={d.id} data-testid="delivery">
      <div class="webhook-delivery-head">
        <strong>{d.event_type}</strong>
        {generationOfDelivery(d.body) && (
          <a href={`/generations/${generationOfDelivery(d.body)}`}>View generation</a>
        )}
        <span class={`badge badge-${d.status}`}>{d.status}</span>
        <span>
          <When ms={d.created_at} precision="second" />
        </span>
        <code class="webhook-msg-id" title="webhook-id header">{d.msg_id}</code>
        {canManage && d.status === "failed" && (
          <form method="post" action="/webhooks/resend">
            <input type="hidden" name="delivery_id" value={d.id} />
            <button type="submit" class="button small">Resend</button>
          </form>
        )}
      </div>
      {d.status === "pending" && d.next_attempt_at !== null && (
        <p class="webhook-hint">
          Next attempt at <When ms={d.next_attempt_at} />
        </p>
      )}
      {d.attempts.length > 0 && (
        <div class="table-scroll">
          <table class="webhook-table">
            <caption class="visually-hidden">Attempts of {d.msg_id}</caption>
            <thead>
              <tr>
                <th scope="col">Attempt at</th>
                <th scope="col">Status code</th>
                <th scope="col">Duration</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {d.attempts.map((a, i) => (
                <tr key={i} data-testid="attempt">
                  <td data-label="At">
                    <When ms={a.at} precision="second" />
                  </td>
                  <td data-label="Status code">{a.status_code ?? "—"}</td>
                  <td data-label="Duration">{a.duration_ms} ms</td>
                  <td data-label="Result" class="webhook-result">
                    {a.error ?? "OK"}
                    {a.error && a.response_excerpt && (
                      <pre class="webhook-payload" data-testid="response-body">
                        {a.response_excerpt}
                      </pre>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details>
        <summary>Payload</summary>
        <pre class="webhook-payload">{prettyJson(d.body)}</pre>
      </details>
    </li>
  );
}

export default define.page<typeof handler, Data>(function WebhookEndpointPage({ data }) {
  const e = data.endpoint;
  return (
    <div class="webhooks">
      <Head>
        <title>Webhook endpoint · Pipevideo</title>
      </Head>
      <p>
        <a href="/webhooks">← All webhooks</a>
      </p>
      <h1 class="webhook-url">{e.url}</h1>
      <p>
        <span class={`badge ${e.enabled ? "badge-succeeded" : "badge-disabled"}`}>
          {e.enabled ? "enabled" : "disabled"}
        </span>{" "}
        {e.description} · added <When ms={e.created_at} />
      </p>
      {data.notice && <p class="notice" role="status">{data.notice}</p>}
      {data.rotatedSecret && (
        <WebhookSecret
          secret={data.rotatedSecret}
          note="The new secret signs from now on. The previous one also signs for 24 hours, so your receiver can switch over. Copy it now: it is shown only once."
        />
      )}
      {data.canManage && (
        <div class="webhook-actions" role="group" aria-label="Endpoint actions">
          <ActionButton action="test" label="Send test event" />
          <ActionButton action="rotate" label="Rotate secret" />
          {e.enabled
            ? <ActionButton action="disable" label="Disable" />
            : <ActionButton action="enable" label="Enable" />}
          <details class="webhook-delete">
            <summary class="button danger">Delete…</summary>
            <p>Delete this endpoint? Its past deliveries stay listed; no new events are sent.</p>
            <ActionButton action="delete" label="Delete endpoint" danger />
          </details>
        </div>
      )}
      <h2 id="deliveries-heading">Deliveries</h2>
      {!data.nextCursor && (
        <LiveSection targetIds={["deliveries"]} intervalMs={3000} note="Deliveries update live." />
      )}
      <section aria-labelledby="deliveries-heading" id="deliveries">
        {data.deliveries.length === 0 ? <p>No deliveries yet.</p> : (
          <ul class="webhook-deliveries">
            {data.deliveries.map((d) => <Delivery key={d.id} d={d} canManage={data.canManage} />)}
          </ul>
        )}
        {data.nextCursor && (
          <p>
            <a href={`/webhooks/${e.id}?cursor=${encodeURIComponent(data.nextCursor)}`}>
              Older deliveries →
            </a>
          </p>
        )}
      </section>
    </div>
  );
});
