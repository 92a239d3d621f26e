import { page } from "fresh";
import { define } from "../../../utils.ts";
import { getUsage } from "../../../lib/generations/service.ts";
import { signVideoUrl } from "../../../lib/storage.ts";
import { formatCents } from "../../../components/format.ts";
import UsageChart from "../../../islands/UsageChart.tsx";

const CHART_DAYS = 30;

export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const nowMs = services.now();
    const usage = await getUsage(services.kv, org!.id, nowMs);
    // The chart shows every day of the window, with zeros where nothing happened.
    const byDay = new Map(usage.daily_usage.map((d) => [d.date, d]));
    const days = Array.from(
      { length: CHART_DAYS },
      (_, i) => new Date(nowMs - (CHART_DAYS - 1 - i) * 86_400_000).toISOString().slice(0, 10),
    );
    // Links to finished videos, on this origin, valid for an hour.
    const { secretKey } = services.config;
    const expires = Math.floor(nowMs / 1000) + 3600;
    const videos = Object.fromEntries(
      await Promise.all(
        usage.recent_requests.filter((r) => r.status === "completed").map(async (r) => [
          r.id,
          await signVideoUrl("", secretKey, r.id, expires),
        ]),
      ),
    );
    return page({
      usage,
      videos,
      chart: {
        days,
        requests: days.map((d) => byDay.get(d)?.request_count ?? 0),
        spendCents: days.map((d) => byDay.get(d)?.total_cost_cents ?? 0),
      },
    });
  },
});

const time = (sec: number | null) =>
  sec === null ? "—" : new Date(sec * 1000).toISOString().slice(0, 16).replace("T", " ");

export default define.page<typeof handler>(function Usage({ data }) {
  const { usage, chart, videos } = data;
  const t = usage.totals;
  const active = usage.daily_usage.slice().reverse();
  return (
    <div class="usage-page">
      <p class="eyebrow">Usage</p>
      <h1>Usage</h1>
      <dl class="usage-stats">
        <div class="card">
          <dt>Balance</dt>
          <dd data-testid="usage-balance">
            {formatCents(usage.credit_balance)} <a href="/billing" class="stat-link">Add credits</a>
          </dd>
        </div>
        <div class="card">
          <dt>Requests</dt>
          <dd data-testid="usage-requests">{t.total_requests}</dd>
        </div>
        <div class="card">
          <dt>Completed / failed</dt>
          <dd>{t.completed_requests} / {t.failed_requests}</dd>
        </div>
        <div class="card">
          <dt>Spent</dt>
          <dd data-testid="usage-spent">{formatCents(t.total_cost_cents)}</dd>
        </div>
      </dl>

      <section class="card usage-chart-card" aria-labelledby="usage-chart-title">
        <h2 id="usage-chart-title">Last {CHART_DAYS} days</h2>
        <UsageChart days={chart.days} requests={chart.requests} spendCents={chart.spendCents} />
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
            {active.map((d) => (
              <tr key={d.date}>
                <th scope="row">{d.date}</th>
                <td>{d.request_count}</td>
                <td>{formatCents(d.total_cost_cents)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

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
                    <th scope="col">Created (UTC)</th>
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
                      <td data-label="Created">{time(r.created_at)}</td>
                      <td data-label="Video">
                        {videos[r.id] ? <a href={videos[r.id]} data-video>Watch</a> : "—"}
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
