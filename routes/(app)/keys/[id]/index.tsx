import { page } from "fresh";
import { define, type State } from "../../../../utils.ts";
import { readFormObject } from "../../../../lib/http/form.ts";
import { getKeyForPage, type KeyView } from "../../../../lib/auth/keys.ts";
import { hasRole } from "../../../../lib/auth/roles.ts";
import { getKeyLimit } from "../../../../lib/db/apikeys.ts";
import { getKeyUsage, type KeyUsage } from "../../../../lib/spend/usage.ts";
import {
  type FormErrors,
  saveKeyLimitFromForm,
  toDollarsField,
} from "../../../../lib/spend/forms.ts";
import type { LimitReset } from "../../../../lib/db/period.ts";
import { DataTable, Flash, PageHeader } from "../../../../components/ui.tsx";
import { formatCents } from "../../../../lib/format.ts";
import { describeReset, KeyLimitFields } from "../../../../components/spend/KeyLimitFields.tsx";
import { When } from "../../../../components/time.tsx";

interface Data {
  key: KeyView;
  usage: KeyUsage;
  canManage: boolean;
  values: { limit_dollars: string; limit_reset: LimitReset };
  errors: FormErrors;
  saved: boolean;
}

/** One key: its spend and requests (today, this period, all time) and its spend limit. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    return page(await data(ctx.state, ctx.params.id, ctx.url.searchParams.get("m") === "saved"));
  },
  async POST(ctx) {
    const form = await readFormObject(ctx.req);
    const { services } = ctx.state;
    await getKeyForPage(services, ctx.state.org!.id, ctx.params.id); // 404 for another org's
    const r = await saveKeyLimitFromForm(services, ctx.state, ctx.params.id, form);
    if (r.ok) return ctx.redirect(`/keys/${ctx.params.id}?m=saved`, 303);
    const d = await data(ctx.state, ctx.params.id, false);
    d.errors = r.errors;
    d.values = {
      limit_dollars: String(form.limit_dollars ?? ""),
      limit_reset: String(form.limit_reset ?? "never") as LimitReset,
    };
    return page(d, { status: 400 });
  },
});

async function data(state: State, keyId: string, saved: boolean): Promise<Data> {
  const { services } = state;
  const key = await getKeyForPage(services, state.org!.id, keyId);
  const limit = await getKeyLimit(services.kv, key.id);
  const usage = await getKeyUsage(services.kv, key, limit, services.now());
  return {
    key,
    usage,
    canManage: hasRole(state, "admin"),
    values: {
      limit_dollars: toDollarsField(usage.limit_cents),
      limit_reset: usage.limit_reset,
    },
    errors: {},
    saved,
  };
}

export default define.page<unknown, Data>(function KeyPage({ data }) {
  const { key: k, usage: u } = data;
  const rows: [string, KeyUsage["today"]][] = [
    ["Today (UTC)", u.today],
    ["This limit period", u.period],
    ["All time", u.all_time],
  ];
  return (
    <div class="narrow">
      <PageHeader
        title={`Key “${k.name}”`}
        description={
          <>
            <code>{k.prefix}…</code> · created <When ms={k.created_at} precision="date" />{" "}
            · last used {k.last_used_at ? <When ms={k.last_used_at} /> : "never"} ·{" "}
            <span class={`badge badge-${k.status}`}>{k.status}</span>
          </>
        }
      />
      {data.saved && <Flash kind="success">The spend limit was saved.</Flash>}
      <section class="card" aria-labelledby="limit-heading" data-testid="key-limit">
        <h2 id="limit-heading">Spend limit</h2>
        {u.limit_cents === null
          ? <p>No limit: the key can spend up to the organization's balance and budget.</p>
          : (
            <p>
              {formatCents(u.period.spent_cents)} of {formatCents(u.limit_cents)}{" "}
              {describeReset(u.limit_reset)} spent
              {u.resets_at
                ? (
                  <>
                    ; resets <When ms={u.resets_at} />
                  </>
                )
                : ""}.
            </p>
          )}
        {data.canManage && (
          <form method="post" action={`/keys/${k.id}`} novalidate>
            {Object.keys(data.errors).length > 0 && (
              <Flash kind="error">The limit was not saved. Fix the fields marked below.</Flash>
            )}
            <div class="form-row">
              <KeyLimitFields values={data.values} errors={data.errors} />
            </div>
            <button type="submit" class="button primary">Save limit</button>
          </form>
        )}
      </section>
      <DataTable caption="Usage of this key">
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col" class="num">Spent</th>
            <th scope="col" class="num">Requests</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, p]) => (
            <tr key={label}>
              <td>{label}</td>
              <td class="num">{formatCents(p.spent_cents)}</td>
              <td class="num">{p.requests}</td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      <p>
        <a href="/keys">All keys</a>
      </p>
    </div>
  );
});
