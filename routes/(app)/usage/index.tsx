import { page } from "fresh";
import { define } from "../../../utils.ts";
import { getUsage } from "../../../lib/generations/service.ts";
import { signVideoUrl } from "../../../lib/storage.ts";
import { formatCents } from "../../../components/format.ts";
import { When } from "../../../components/time.tsx";
import UsageChart from "../../../islands/UsageChart.tsx";
import { type Breakdown, parseRange, RANGES, usageReport } from "../../../lib/dashboard/usage.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const nowMs = services.now();
    const days = parseRange(ctx.url.searchParams.get("days"));
    const [usage, report] = await Promise.all([
      getUsage(services.kv, org!.id, nowMs),
      usageReport(services, org!.id, days),
    ]);
    // Links to finished videos, on this origin, valid for an hour.
    const { secretKey } = services.config;
    const expires = Math.floor(nowMs / 1000) + 3600;
    const videos = Object.fromEntries(
      await Promise.all(
        usage.recent_requests.filter((r) => r.status === "completed" && !r.output_expired).map(
          async (r) => [
            r.id,
            await signVideoUrl("", secretKey, r.id, expires),
          ],
        ),
      ),
    );
    const { generations: _g, ...chart } = report;
    return page({ usage, videos, days, report: chart });
  },
});

export default define.page<typeof handler>(function Usage({ data }) {
  const { usage, report, videos, days } = data;
  const st = report.status;
  const total = report.requests.reduce((a, b) => a + b, 0);
  const spent = report.spendCents.reduce((a, b) => a + b, 0);
  return (
    <div class="usage-page">
      <p class="eyebrow">Usage</p>
      <h1>Usage</h1>
      <nav class="range-tabs" aria-label="Range">
        {RANGES.map((r) => (
          <a key={r} href={`/usage?days=${r}`} aria-current={r === days ? "page" : undefined}>
            {r} days
          </a>
        ))}
        <a class="button small" href={`/usage/export.csv?days=${days}`} download>
          Export CSV
        </a>
      </nav>
      {report.truncated && (
        <p class="flash flash-warning" role="status">
          This range has more generations than one page reads; the figures cover the first ones.
        </p>
      )}
      <dl class="usage-stats">
        <div class="card">
          <dt>Balance</dt>
          <dd data-testid="usage-balance">
            {formatCents(usage.credit_balance)} <a href="/billing" class="stat-link">Add credits</a>
          </dd>
        </div>
        <div class="card">
          <dt>Requests ({days} days)</dt>
          <dd data-testid="usage-requests">{total}</dd>
        </div>
        <div class="card">
          <dt>Completed / failed / cancelled</dt>
          <dd data-testid="usage-outcomes">
            {st.completed} / {st.failed} / {st.cancelled}
            {st.running > 0 && <span class="muted">{` (${st.running} running)`}</span>}
          </dd>
        </div>
        <div class="card">
          <dt>Spent ({days} days)</dt>
          <dd data-testid="usage-spent">{formatCents(spent)}</dd>
        </div>
      </dl>

      <div class="usage-charts">
        <section class="card usage-chart-card" aria-labelledby="chart-requests-title">
          <h2 id="chart-requests-title">Requests per day</h2>
          <UsageChart
            days={report.days}
            values={report.requests}
            unit="requests"
            label="Requests"
          />
        </section>
        <section class="card usage-chart-card" aria-labelledby="chart-spend-title">
          <h2 id="chart-spend-title">Spend per day (USD)</h2>
          <UsageChart days={report.days} values={report.spendCents} unit="cents" label="Spend" />
        </section>
      </div>
      <table class="visually-hidden">
        <caption>Daily usage, days with requests</caption>
        <thead>
          <tr>
            <th scope="col">Day (UTC)</th>
            <th scope="col">Requests</th>
            <th scope="col">Spend</th>
          </tr>
        </thead>
        <tbody>
          {report.days.map((d, i) =>
            report.requests[i] > 0 && (
              <tr key={d}>
                <th scope="row">{d}</th>
                <td>{report.requests[i]}</td>
                <td>{formatCents(report.spendCents[i])}</td>
              </tr>
            )
          )}
        </tbody>
      </table>

      <div class="usage-breakdowns">
        <BreakdownTable title="By model" column="Model" rows={report.byModel} testid="by-model" />
        <BreakdownTable title="By API key" column="Key" rows={report.byKey} testid="by-key" />
      </div>

      <section class="card" aria-labelledby="usage-recent-title">
        <h2 id="usage-recent-title">Recent generations</h2>
        {usage.recent_requests.length === 0
          ? (
            <p class="usage-empty">
              No generations yet. Try one in the <a href="/playground">Playground</a> or follow the
              {" "}
              <a href="/docs">quickstart</a>.
            </p>
          )
          : (
            <div class="table-scroll">
              <table class="usage-table">
                <thead>
                  <tr>
                    <th scope="col">Generation</th>
                    <th scope="col">Status</th>
                    <th scope="col">Model</th>
                    <th scope="col">Cost</th>
                    <th scope="col">Latency</th>
                    <th scope="col">Created</th>
                    <th scope="col">Video</th>
                  </tr>
                </thead>
                <tbody>
                  {usage.recent_requests.map((r) => (
                    <tr key={r.id} data-id={r.id}>
                      <td data-label="Generation">
                        <a href={`/generations/${r.id}`} data-testid="generation-link">
                          <code>{r.id}</code>
                        </a>
                      </td>
                      <td data-label="Status">
                        <span class={`status status-${r.status}`}>{r.status}</span>
                      </td>
                      <td data-label="Model">{r.model_name}</td>
                      <td data-label="Cost">
                        {r.cost_cents === null ? "—" : formatCents(r.cost_cents)}
                      </td>
                      <td data-label="Latency">
                        {r.latency_ms === null ? "—" : `${(r.latency_ms / 1000).toFixed(1)} s`}
                      </td>
                      <td data-label="Created">
                        <When ms={r.created_at === null ? null : r.created_at * 1000} />
                      </td>
                      <td data-label="Video">
                        {videos[r.id]
                          ? <a href={videos[r.id]} data-video>Watch</a>
                          : r.output_expired
                          ? <span title="Deleted after the retention period">Expired</span>
                          : "—"}
                      </td>
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

function BreakdownTable(
  props: { title: string; column: string; rows: Breakdown[]; testid: string },
) {
  return (
    <section class="card" aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.rows.length === 0
        ? <p class="muted">Nothing in this range.</p>
        : (
          <table class="usage-table" data-testid={props.testid}>
            <thead>
              <tr>
                <th scope="col">{props.column}</th>
                <th scope="col">Requests</th>
                <th scope="col">Spend</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr key={r.label}>
                  <td class="break">{r.label}</td>
                  <td data-label="Requests">{r.requests}</td>
                  <td data-label="Spend">{formatCents(r.spendCents)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}
