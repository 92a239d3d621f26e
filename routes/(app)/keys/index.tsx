import { page } from "fresh";
import { define, type State } from "../../../utils.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { type KeyView, listKeysForPage, MAX_KEY_NAME } from "../../../lib/auth/keys.ts";
import { hasRole } from "../../../lib/auth/roles.ts";
import { putFlash, takeFlash } from "../../../lib/db/flash.ts";
import CopyButton from "../../../islands/CopyButton.tsx";
import {
  DataTable,
  EmptyState,
  Field,
  fieldAria,
  Flash,
  PageHeader,
} from "../../../components/ui.tsx";
import { KeyLimitFields } from "../../../components/spend/KeyLimitFields.tsx";
import { KeySpend } from "../../../components/spend/KeySpend.tsx";
import { createKeyWithLimitFromForm } from "../../../lib/spend/forms.ts";
import { type KeyUsage, listKeyUsage } from "../../../lib/spend/usage.ts";
import type { LimitReset } from "../../../lib/db/period.ts";
import { noticeFor } from "../../../lib/http/notice.ts";
import { When } from "../../../components/time.tsx";

interface Data {
  keys: KeyView[];
  canManage: boolean;
  created: { secret: string; name: string } | null;
  /** A ready command with the new key in it. */
  curl?: string;
  /** The page was opened again after its one-time reveal was shown. */
  revealGone?: boolean;
  errors: { name?: string; expires_on?: string; limit_dollars?: string; limit_reset?: string };
  values: { name: string; expires_on: string; limit_dollars: string; limit_reset: LimitReset };
  usage: Record<string, KeyUsage>;
  message: string | null;
  today: string;
}

const MESSAGES: Record<string, string> = { revoked: "The key was revoked. It no longer works." };

export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { services, flashOwner } = ctx.state;
    const d = await data(ctx.state, ctx.url.searchParams.get("m"));
    const flash = await takeFlash(
      services.kv,
      flashOwner!,
      ctx.url.searchParams.get("created"),
      "key_created",
      services.now(),
    );
    if (flash) {
      d.created = { secret: flash.secret, name: flash.name };
      // Runs as pasted: submits a video on the offline model (a few cents) and prints its id.
      d.curl = `curl ${services.config.publicUrl}/v1/video/generations \\\n` +
        `  -H "Authorization: Bearer ${flash.secret}" \\\n` +
        `  -H "Content-Type: application/json" \\\n` +
        `  -d '{"model": "local/preview", "prompt": "A lighthouse at dusk, waves rolling in"}'`;
    } else if (ctx.url.searchParams.has("created")) {
      // A reload (or Back) after creating a key: the one-time reveal is spent; say so.
      d.revealGone = true;
    }
    return page(d);
  },
  async POST(ctx) {
    const form = await readFormObject(ctx.req);
    const result = await createKeyWithLimitFromForm(ctx.state.services, ctx.state, form);
    if (!result.ok) {
      const d = await data(ctx.state, null);
      d.errors = result.errors;
      d.values = {
        name: String(form.name ?? ""),
        expires_on: String(form.expires_on ?? ""),
        limit_dollars: String(form.limit_dollars ?? ""),
        limit_reset: (String(form.limit_reset ?? "never")) as LimitReset,
      };
      return page(d, { status: 400 });
    }
    // POST → 303 → GET, so a reload cannot create a second key; the secret travels in a
    // one-time server-side flash, never in the URL.
    const { services, flashOwner } = ctx.state;
    const id = await putFlash(services.kv, flashOwner!, {
      kind: "key_created",
      keyId: result.key.id,
      name: result.key.name,
      secret: result.secret,
    }, services.now());
    return ctx.redirect(`/keys?created=${id}`, 303);
  },
});

async function data(state: State, m: string | null): Promise<Data> {
  return {
    keys: await listKeysForPage(state.services, state.org!.id),
    canManage: hasRole(state, "admin"),
    created: null,
    errors: {},
    values: { name: "", expires_on: "", limit_dollars: "", limit_reset: "never" },
    usage: Object.fromEntries(
      (await listKeyUsage(state.services.kv, state.org!.id, state.services.now())).map((
        u,
      ) => [u.key_id, u]),
    ),
    message: noticeFor(MESSAGES, m),
    today: new Date(state.services.now()).toISOString().slice(0, 10),
  };
}

export default define.page<unknown, Data>(function KeysPage({ data, state }) {
  return (
    <>
      <PageHeader
        title="API keys"
        description={
          <>
            Keys let your code call the Pipevideo API as{" "}
            <strong>{state.org!.name}</strong>. Send one as <code>Authorization: Bearer pv_…</code>.
          </>
        }
      />
      {data.message && <Flash kind="success">{data.message}</Flash>}
      {data.revealGone && (
        <Flash kind="info">
          <span data-testid="reveal-gone">
            A new key is shown only once, on the page right after you create it, and this page was
            opened again. If you did not copy it, revoke it below and create another.
          </span>
        </Flash>
      )}
      {data.created && (
        <div class="card secret-card" data-testid="new-key">
          <h2>Your new key “{data.created.name}”</h2>
          <p>
            Copy it now and keep it somewhere safe. <strong>It will not be shown again.</strong>
          </p>
          <div class="secret-row">
            <code class="secret" data-testid="new-key-secret">{data.created.secret}</code>
            <CopyButton value={data.created.secret} label="Copy key" />
          </div>
          <p>
            Try it: this makes a video with the offline <code>local/preview</code> model; open it on
            {" "}
            <a href="/usage">Usage</a> when it is done.
          </p>
          <div class="secret-row">
            <pre class="secret" data-testid="new-key-curl"><code>{data.curl}</code></pre>
            <CopyButton value={data.curl!} label="Copy curl" />
          </div>
        </div>
      )}
      {data.canManage
        ? (
          <form method="post" action="/keys" class="card key-form" novalidate>
            <h2>Create a key</h2>
            {Object.keys(data.errors).length > 0 && (
              <Flash kind="error">The key was not created. Fix the fields marked below.</Flash>
            )}
            <div class="form-row">
              <Field id="key-name" label="Name" error={data.errors.name}>
                <input
                  {...fieldAria("key-name", data.errors.name)}
                  name="name"
                  required
                  maxlength={MAX_KEY_NAME}
                  placeholder="e.g. production server"
                  value={data.values.name}
                />
              </Field>
              <Field
                id="key-expires"
                label="Expires (optional)"
                error={data.errors.expires_on}
                hint="The key stops working after this day (UTC). Empty: never."
              >
                <input
                  {...fieldAria("key-expires", data.errors.expires_on, true)}
                  name="expires_on"
                  type="date"
                  min={data.today}
                  value={data.values.expires_on}
                />
              </Field>
              <KeyLimitFields values={data.values} errors={data.errors} />
            </div>
            <button type="submit" class="button primary">Create key</button>
          </form>
        )
        : (
          <Flash kind="info">
            You are a member of this organization: you can see its keys, and an admin or owner can
            create and revoke them.
          </Flash>
        )}
      {data.keys.length === 0
        ? (
          <EmptyState title="No API keys yet">
            <p>
              {data.canManage
                ? "Create your first key above, then try it in the Playground or with curl."
                : "Ask an admin of this organization to create one."}
            </p>
          </EmptyState>
        )
        : (
          <DataTable caption="API keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                <th scope="col">Spend</th>
                {data.canManage && (
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {data.keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td data-label="Name">
                    <a href={`/keys/${k.id}`}>{k.name}</a>
                  </td>
                  <td data-label="Key">
                    <code>{k.prefix}…</code>
                  </td>
                  <td data-label="Created">
                    <When ms={k.created_at} precision="date" />
                  </td>
                  <td data-label="Last used">
                    {k.last_used_at ? <When ms={k.last_used_at} /> : "Never"}
                  </td>
                  <td data-label="Expires">
                    {k.expires_at ? <When ms={k.expires_at - 1} precision="date" /> : "Never"}
                  </td>
                  <td data-label="Status">
                    <span class={`badge badge-${k.status}`}>{k.status}</span>
                  </td>
                  <td>
                    <KeySpend usage={data.usage[k.id]} />
                  </td>
                  {data.canManage && (
                    <td class="actions-cell">
                      {k.status !== "revoked" && (
                        <a
                          class="button small danger"
                          href={`/keys/${k.id}/revoke`}
                          aria-label={`Revoke ${k.name}`}
                        >
                          Revoke
                        </a>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </DataTable>
        )}
    </>
  );
});
