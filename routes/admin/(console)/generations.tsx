import { page } from "fresh";
import { z } from "zod";
import { define } from "../../../utils.ts";
import {
  type GenerationRecord,
  type GenerationStatus,
  listRecentGenerations,
} from "../../../lib/db/generations.ts";
import { formatCents, formatDateTime } from "../../../lib/format.ts";
import { EmptyState, PageHeader } from "../../../components/ui.tsx";
import { StatusBadge } from "../../../components/generations.tsx";

const STATUSES: GenerationStatus[] = ["pending", "processing", "completed", "failed", "cancelled"];
const Filter = z.object({
  status: z.enum(STATUSES).optional().catch(undefined),
  model: z.string().trim().max(200).optional().catch(undefined),
  provider: z.string().trim().max(50).optional().catch(undefined),
});

interface Data {
  filter: z.infer<typeof Filter>;
  generations: GenerationRecord[];
}

/** The newest generations of every organization, by status, model and provider. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const raw = Object.fromEntries(
      [...ctx.url.searchParams].filter(([, v]) => v !== ""),
    );
    const filter = Filter.parse(raw);
    const generations = await listRecentGenerations(ctx.state.services.kv, {
      limit: 100,
      ...filter,
    });
    return page({ filter, generations });
  },
});

export default define.page<unknown, Data>(function Generations({ data }) {
  const f = data.filter;
  return (
    <>
      <PageHeader
        title="Generations"
        description="Across every organization, newest first (the latest 500 are searched)."
      />
      <form method="get" class="form-row" aria-label="Filter generations">
        <label>
          Status{" "}
          <select name="status">
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s} selected={f.status === s}>{s}</option>)}
          </select>
        </label>
        <label>
          Model <input name="model" value={f.model ?? ""} placeholder="maker/model" />
        </label>
        <label>
          Provider <input name="provider" value={f.provider ?? ""} placeholder="fal" />
        </label>
        <button type="submit" class="button">Filter</button>
      </form>
      {data.generations.length === 0
        ? <EmptyState title="No generations match" />
        : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Generations">
            <table class="data-table" data-testid="generations">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Organization</th>
                  <th scope="col">Model</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col">Charged</th>
                  <th scope="col">Created</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {data.generations.map((g) => (
                  <tr key={g.id}>
                    <td>
                      <code>{g.id}</code>
                    </td>
                    <td>
                      <a href={`/admin/orgs/${g.org_id}`}>
                        <code>{g.org_id}</code>
                      </a>
                    </td>
                    <td>{g.model}</td>
                    <td>{g.candidates[g.attempt]?.provider ?? "—"}</td>
                    <td>
                      <StatusBadge status={g.status} />
                    </td>
                    <td>{formatCents(g.charged_cents)}</td>
                    <td>{formatDateTime(g.created_at)}</td>
                    <td>{g.error_message ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </>
  );
});
