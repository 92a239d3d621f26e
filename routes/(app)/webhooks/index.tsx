import { Head, page } from "fresh";
import { z } from "zod";
import { define } from "../../../utils.ts";
import { readForm } from "../../../lib/http/form.ts";
import { hasRole, requireRole } from "../../../lib/auth/roles.ts";
import { BadRequest } from "../../../lib/errors.ts";
import { parseWith } from "../../../lib/http/json.ts";
import { webhookDeps } from "../../../lib/webhooks/notify.ts";
import { TYPED_EVENTS } from "../../../lib/webhooks/events.ts";
import {
  MAX_DESCRIPTION_CHARS,
  MAX_URL_CHARS,
  registerEndpoint,
  webhooksOverview,
} from "../../../lib/webhooks/manage.ts";
import type { WebhookDelivery, WebhookEndpoint } from "../../../lib/db/webhooks.ts";
import WebhookSecret from "../../../islands/WebhookSecret.tsx";
import { putFlash, takeFlash } from "../../../lib/db/flash.ts";
import { generationOfDelivery } from "../../../components/generations.tsx";
import { When } from "../../../components/time.tsx";

const CreateForm = z.object({
  url: z.string().default(""),
  description: z.string().default(""),
  /** Typed events chosen (checkboxes); none keeps the compat video.generation.completed. */
  events: z.array(z.string()).default([]),
});

interface Data {
  endpoints: WebhookEndpoint[];
  recent: WebhookDelivery[];
  canManage: boolean;
  /** Just added: its secret is shown this once. */
  created?: { endpointId: string; url: string; secret: string };
  form?: { url: string; description: string; error: { param: string | null; message: string } };
}

export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const overview = await webhooksOverview(webhookDeps(services), org!.id);
    const created = await takeFlash(
      services.kv,
      ctx.state.flashOwner!,
      ctx.url.searchParams.get("created"),
      "webhook_created",
      services.now(),
    );
    return page<Data>({
      ...overview,
      canManage: hasRole(ctx.state, "admin"),
      created: created ?? undefined,
    });
  },
  async POST(ctx) {
    requireRole(ctx.state, "admin");
    const { services, org } = ctx.state;
    const deps = webhookDeps(services);
    const form = await readForm(ctx.req);
    const input = parseWith(CreateForm, {
      ...Object.fromEntries(form),
      events: form.getAll("events"),
    });
    try {
      const created = await registerEndpoint(deps, org!.id, input);
      // POST → 303 → GET: a reload adds nothing; the secret is a one-time server-side flash.
      const flash = await putFlash(services.kv, ctx.state.flashOwner!, {
        kind: "webhook_created",
        endpointId: created.endpoint.id,
        url: created.endpoint.url,
        secret: created.secret,
      }, services.now());
      return ctx.redirect(`/webhooks?created=${flash}`, 303);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      const overview = await webhooksOverview(deps, org!.id);
      return page<Data>({
        ...overview,
        canManage: true,
        form: { ...input, error: { param: err.param, message: err.message } },
      }, { status: 400 });
    }
  },
});

function DeliveryStatus({ d }: { d: Pick<WebhookDelivery, "status"> }) {
  return <span class={`badge badge-${d.status}`}>{d.status}</span>;
}

export default define.page<typeof handler, Data>(function Webhooks({ data }) {
  const err = data.form?.error;
  const urlError = err && (err.param === "url" || err.param === null) ? err.message : null;
  const descriptionError = err?.param === "description" ? err.message : null;
  return (
    <div class="webhooks">
      <Head>
        <title>Webhooks · Pipevideo</title>
      </Head>
      <h1>Webhooks</h1>
      <p class="lead">
        When a generation ends (completed, failed or cancelled) Pipevideo POSTs a signed{" "}
        <code>video.generation.completed</code> event to each enabled endpoint. Verify the{" "}
        <code>webhook-signature</code> header with the endpoint's secret (Standard Webhooks).
      </p>

      {data.created && (
        <section aria-labelledby="created-heading">
          <h2 id="created-heading">Endpoint added</h2>
          <p>
            <a href={`/webhooks/${data.created.endpointId}`}>{data.created.url}</a>
          </p>
          <WebhookSecret
            secret={data.created.secret}
            note="Copy it now: it is shown only once. Rotate the secret if it is lost."
          />
        </section>
      )}

      {data.canManage && (
        <section class="card" aria-labelledby="add-heading">
          <h2 id="add-heading">Add an endpoint</h2>
          <form method="post" action="/webhooks" class="webhook-form" novalidate>
            <label class="field">
              <span>Endpoint URL</span>
              <input
                type="url"
                name="url"
                required
                maxLength={MAX_URL_CHARS}
                placeholder="https://example.com/webhooks/pipevideo"
                value={data.form?.url ?? ""}
                aria-invalid={urlError ? "true" : undefined}
                aria-describedby={urlError ? "url-error" : undefined}
              />
              {urlError && <span class="field-error" id="url-error">{urlError}</span>}
            </label>
            <label class="field">
              <span>Description (optional)</span>
              <input
                type="text"
                name="description"
                maxLength={MAX_DESCRIPTION_CHARS}
                value={data.form?.description ?? ""}
                aria-invalid={descriptionError ? "true" : undefined}
                aria-describedby={descriptionError ? "description-error" : undefined}
              />
              {descriptionError && (
                <span class="field-error" id="description-error">{descriptionError}</span>
              )}
            </label>
            <fieldset class="field">
              <legend>Events (optional)</legend>
              <p class="hint">
                None chosen: video.generation.completed for every outcome (and balance.low). Chosen:
                only those, as {"{"}type, timestamp, data{"}"}.
              </p>
              {TYPED_EVENTS.map((e) => (
                <label key={e} class="checkbox">
                  <input type="checkbox" name="events" value={e} /> <code>{e}</code>
                </label>
              ))}
            </fieldset>
            <button type="submit" class="button primary">Add endpoint</button>
          </form>
        </section>
      )}

      <section aria-labelledby="endpoints-heading">
        <h2 id="endpoints-heading">Endpoints</h2>
        {data.endpoints.length === 0 ? <p>No endpoints yet.</p> : (
          <ul class="webhook-endpoints">
            {data.endpoints.map((e) => (
              <li key={e.id} class="card">
                <a href={`/webhooks/${e.id}`} class="webhook-url">{e.url}</a>
                {e.description && <span class="webhook-description">{e.description}</span>}
                <span class={`badge ${e.enabled ? "badge-succeeded" : "badge-disabled"}`}>
                  {e.enabled ? "enabled" : "disabled"}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Recent deliveries</h2>
        {data.recent.length === 0 ? <p>No deliveries yet.</p> : (
          <div class="table-scroll">
            <table class="webhook-table">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">To</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Created</th>
                  {data.canManage && (
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {data.recent.map((d) => (
                  <tr key={d.id} data-testid="delivery-row">
                    <td data-label="Event">
                      {d.event_type}
                      {generationOfDelivery(d.body) && (
                        <>
                          {" "}
                          <a href={`/generations/${generationOfDelivery(d.body)}`}>generation</a>
                        </>
                      )}
                    </td>
                    <td data-label="To" class="webhook-url">
                      {d.endpoint_id
                        ? <a href={`/webhooks/${d.endpoint_id}#${d.id}`}>{d.url}</a>
                        : <span title="Per-request webhook_url">{d.url}</span>}
                    </td>
                    <td data-label="Status">
                      <DeliveryStatus d={d} />
                    </td>
                    <td data-label="Attempts">{d.attempt_count}</td>
                    <td data-label="Created">
                      <When ms={d.created_at} />
                    </td>
                    {data.canManage && (
                      <td>
                        {d.status === "failed" && (
                          <form method="post" action="/webhooks/resend">
                            <input type="hidden" name="delivery_id" value={d.id} />
                            <button type="submit" class="button small">Resend</button>
                          </form>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
});
