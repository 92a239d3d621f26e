import { page } from "fresh";
import { define } from "../../../../utils.ts";
import { readForm } from "../../../../lib/http/form.ts";
import { getKeyForPage, type KeyView, revokeKeyFromForm } from "../../../../lib/auth/keys.ts";
import { requireRole } from "../../../../lib/auth/roles.ts";
import { PageHeader } from "../../../../components/ui.tsx";
import { When } from "../../../../components/time.tsx";

/** The confirmation step before a key stops working. Another org's key: 404. */
export const handler = define.handlers<{ key: KeyView }>({
  async GET(ctx) {
    requireRole(ctx.state, "admin");
    return page({ key: await getKeyForPage(ctx.state.services, ctx.state.org!.id, ctx.params.id) });
  },
  async POST(ctx) {
    await readForm(ctx.req); // the confirmation form has no fields, but it is a form
    await revokeKeyFromForm(ctx.state.services, ctx.state, ctx.params.id);
    return ctx.redirect("/keys?m=revoked", 303);
  },
});

export default define.page<unknown, { key: KeyView }>(function RevokeKey({ data }) {
  const k = data.key;
  return (
    <div class="narrow">
      <PageHeader title={`Revoke “${k.name}”?`} />
      <div class="card">
        <p>
          Requests using <code>{k.prefix}…</code> (created{" "}
          <When ms={k.created_at} precision="date" />) will be refused with <code>401</code>{" "}
          at once. This cannot be undone; you can create a new key at any time.
        </p>
        {k.status === "revoked"
          ? <p>This key is already revoked.</p>
          : (
            <form method="post" action={`/keys/${k.id}/revoke`} class="actions">
              <button type="submit" class="button primary danger-fill">Revoke key</button>
              <a class="button" href="/keys">Cancel</a>
            </form>
          )}
      </div>
    </div>
  );
});
