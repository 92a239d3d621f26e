import { page } from "fresh";
import { define } from "../../../utils.ts";
import { type OrgRow, searchOrgs } from "../../../lib/admin/console.ts";
import { formatCents, formatDate } from "../../../lib/format.ts";
import { EmptyState, PageHeader } from "../../../components/ui.tsx";

interface Data {
  q: string;
  orgs: OrgRow[];
}

/** Organizations, newest first, with a search by name or id. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { kv, now } = ctx.state.services;
    const q = (ctx.url.searchParams.get("q") ?? "").slice(0, 100);
    return page({ q, orgs: await searchOrgs(kv, q, now()) });
  },
});

export default define.page<unknown, Data>(function Orgs({ data }) {
  return (
    <>
      <PageHeader title="Organizations" description="Balance, spend this month, members, ledger." />
      <form method="get" action="/admin" class="form-row" role="search">
        <label for="q" class="visually-hidden">Search organizations</label>
        <input id="q" name="q" type="search" value={data.q} placeholder="Name or org_ id" />
        <button type="submit" class="button">Search</button>
      </form>
      {data.orgs.length === 0
        ? <EmptyState title={data.q ? `No organization matches “${data.q}”` : "No organizations"} />
        : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Organizations">
            <table class="data-table" data-testid="orgs">
              <thead>
                <tr>
                  <th scope="col">Organization</th>
                  <th scope="col">Id</th>
                  <th scope="col">Balance</th>
                  <th scope="col">Spend this month</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {data.orgs.map((o) => (
                  <tr key={o.id}>
                    <td>
                      <a href={`/admin/orgs/${o.id}`}>{o.name}</a>
                    </td>
                    <td>
                      <code>{o.id}</code>
                    </td>
                    <td>{formatCents(o.balance_cents)}</td>
                    <td>{formatCents(o.month_spent_cents)}</td>
                    <td>{formatDate(o.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </>
  );
});
