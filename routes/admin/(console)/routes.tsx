import { page } from "fresh";
import { define } from "../../../utils.ts";
import { routeBoard, type RouteRow } from "../../../lib/admin/console.ts";
import { MODELS } from "../../../lib/catalog/mod.ts";
import { formatCents } from "../../../lib/format.ts";
import { PageHeader } from "../../../components/ui.tsx";

interface Data {
  routes: RouteRow[];
}

/** Every route of the catalog in force: breaker, recent failures, margin, status and sunset. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { kv, now, generation } = ctx.state.services;
    // The catalog the workers use (with the operator's CATALOG_FILE entries when it has them).
    return page({ routes: await routeBoard(kv, generation.models ?? MODELS, now()) });
  },
});

export default define.page<unknown, Data>(function Routes({ data }) {
  return (
    <>
      <PageHeader
        title="Routes"
        description="Each model's providers with their circuit breaker, margin and sunset date."
      />
      <div class="table-scroll" tabIndex={0} role="region" aria-label="Routes">
        <table class="data-table" data-testid="routes">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Provider</th>
              <th scope="col">Upstream model</th>
              <th scope="col">Status</th>
              <th scope="col">Sunset</th>
              <th scope="col">Breaker</th>
              <th scope="col">Recent failures</th>
              <th scope="col">Duplicates</th>
              <th scope="col">Margin (reported)</th>
            </tr>
          </thead>
          <tbody>
            {data.routes.map((r) => (
              <tr key={`${r.model}:${r.provider}`}>
                <td>{r.model}</td>
                <td>{r.provider}</td>
                <td>
                  <code>{r.upstream_model}</code>
                </td>
                <td>{r.status}</td>
                <td>{r.sunset ?? "—"}</td>
                <td>
                  <span class={`badge badge-${r.breaker === "closed" ? "active" : "revoked"}`}>
                    {r.breaker.replace("_", "-")}
                  </span>
                </td>
                <td>{r.recent_failure_rate}%</td>
                <td>{r.duplicate_jobs}</td>
                <td>
                  {r.margin
                    ? `${formatCents(r.margin.margin_cents)} over ${r.margin.reported_count}`
                    : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
});
