import { page } from "fresh";
import { define } from "../../../utils.ts";
import { getUsage } from "../../../lib/generations/service.ts";
import { listModels } from "../../../lib/catalog/public.ts";
import {
  type LogFilter,
  type LogPage,
  logQuery,
  parseLogFilter,
  requestLog,
} from "../../../lib/dashboard/request_log.ts";
import { formatCents } from "../../../lib/format.ts";
import { When } from "../../../components/time.tsx";
import UsageChart from "../../../islands/UsageChart.tsx";
import {
  type Breakdown,
  parseRange,
  RANGES,
  spendOf,
  usageReport,
} from "../../../lib/dashboard/usage.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const nowMs = services.now();
    const days = parseRange(ctx.url.searchParams.get("days"));
    const filter = parseLogFilter(ctx.url.searchParams);
    const [usage, report, log] = await Promise.all([
      getUsage(services.kv, org!.id, nowMs),
      usageReport(services, org!.id, days),
      requestLog(services, org!.id, filter),
    ]);
    const models = listModels(services).map((m) => m.slug);
    const { generations: _g, ...chart } = report;
    return page({ usage, days, report: chart, filter, log, models });
  },
});

export default define.page<typeof handler>(function Usage({ data }) {
  const { usage, report, days } = data;
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

      <RequestLog data={data} />
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

const STATUSES = ["completed", "failed", "cancelled", "processing", "pending"] as const;

/** Every request, newest first: filters in the URL (GET form), cursor paging, CSV of the view. */
function RequestLog(
  { data }: { data: { filter: LogFilter; log: LogPage; models: string[]; days: number } },
) {
  const { filter: f, log } = data;
  const filtered = Boolean(f.model || f.status || f.key || f.from || f.to);
  const models = f.model && !data.models.includes(f.model)
    ? [...data.models, f.model]
    : data.models;
  return (
    <section class="card request-log" aria-labelledby="usage-recent-title">
      <h2 id="usage-recent-title">Requests</h2>
      <form method="get" action="/usage#usage-recent-title" class="log-filters" role="search">
        {/* The charts' range stays as it was while the log is filtered. */}
        <input type="hidden" name="days" value={String(data.days)} />
        <label class="field">
          <span>Model</span>
          <select name="model">
            <option value="">Any model</option>
            {models.map((m) => <option key={m} value={m} selected={m === f.model}>{m}</option>)}
          </select>
        </label>
        <label class="field">
          <span>Status</span>
          <select name="status">
            <option value="">Any status</option>
            {STATUSES.map((s) => <option key={s} value={s} selected={s === f.status}>{s}</option>)}
          </select>
        </label>
        <label class="field">
          <span>Key</span>
          <select name="key">
            <option value="">Any source</option>
            <option value="playground" selected={f.key === "playground"}>Playground</option>
            {log.keys.map((k) => (
              <option key={k.id} value={k.id} selected={k.id === f.key}>{k.name}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>From (UTC)</span>
          <input type="date" name="from" value={f.from ?? ""} />
        </label>
        <label class="field">
          <span>To (UTC)</span>
          <input type="date" name="to" value={f.to ?? ""} />
        </label>
        <div class="actions">
          <button type="submit" class="button primary">Filter</button>
          {filtered && (
            <a class="button" href={`/usage?days=${data.days}#usage-recent-title`}>Clear</a>
          )}
          <a class="button" href={`/usage/export.csv${logQuery(f)}`} download>
            Export CSV{filtered ? " of these" : ""}
          </a>
        </div>
      </form>
      {log.rows.length === 0
        ? (
          <p class="usage-empty" data-testid="log-empty">
            {filtered || f.before ? "No requests match these filters." : (
              <>
                No generations yet. Try one in the <a href="/playground">Playground</a>{" "}
                or follow the <a href="/docs">quickstart</a>.
              </>
            )}
          </p>
        )
        : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Requests, scrollable">
            <table class="usage-table log-table" data-testid="request-log">
              <thead>
                <tr>
                  <th scope="col">Prompt</th>
                  <th scope="col">Model</th>
                  <th scope="col">Route</th>
                  <th scope="col">Key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Cost</th>
                  <th scope="col">Time</th>
                  <th scope="col">Video</th>
                </tr>
              </thead>
              <tbody>
                {log.rows.map(({ g, source, route }) => (
                  <tr key={g.id} data-id={g.id}>
                    <td data-label="Prompt" class="log-prompt">
                      <a href={`/generations/${g.id}`} data-testid="generation-link">
                        {g.options.prompt}
                      </a>
                    </td>
                    <td data-label="Model">{g.model}</td>
                    <td data-label="Route">{route ?? "—"}</td>
                    <td data-label="Key">{source}</td>
                    <td data-label="Status">
                      <span class={`status status-${g.status}`}>{g.status}</span>
                    </td>
                    <td data-label="Cost">{formatCents(spendOf(g))}</td>
                    <td data-label="Time">
                      <When ms={g.created_at} />
                      {g.latency_ms !== null && (
                        <span class="muted">{` · ${(g.latency_ms / 1000).toFixed(1)} s`}</span>
                      )}
                    </td>
                    <td data-label="Video">
                      {g.status === "completed" && g.output
                        ? <a href={`/generations/${g.id}#gen-video`} data-video>Watch</a>
                        : g.output_expired_at
                        ? <span title="Deleted after the retention period">Expired</span>
                        : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <nav class="log-pager" aria-label="Pages">
        {f.before && <a href={`/usage${logQuery(f)}#usage-recent-title`}>Newest</a>}
        {log.next && (
          <a
            href={`/usage${logQuery(f, { before: log.next })}#usage-recent-title`}
            data-testid="older"
          >
            Older
          </a>
        )}
      </nav>
    </section>
  );
}
