import { define } from "../../../utils.ts";
import { generationsCsv, REPORT_CAP } from "../../../lib/dashboard/usage.ts";
import { parseLogFilter, requestLog } from "../../../lib/dashboard/request_log.ts";

const DAY_MS = 86_400_000;

/**
 * The organization's generations as CSV: what the Usage log's filters select (the same query
 * string), or the last `days` days; at most REPORT_CAP rows.
 */
export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const today = new Date(services.now()).toISOString().slice(0, 10);
    const filter = parseLogFilter(ctx.url.searchParams);
    const days = Number(ctx.url.searchParams.get("days"));
    if (!filter.from && Number.isInteger(days) && days > 0 && days <= 366) {
      filter.from = new Date(Date.parse(today) - (days - 1) * DAY_MS).toISOString().slice(0, 10);
    }
    delete filter.before;
    const log = await requestLog(services, org!.id, filter, REPORT_CAP, REPORT_CAP);
    const names = new Map(log.keys.map((k) => [k.id, k.name]));
    const what = filter.from || filter.to || filter.model || filter.status || filter.key
      ? "filtered"
      : "all";
    return new Response(generationsCsv(log.rows.map((r) => r.g), names), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="pipevideo-generations-${what}-${today}.csv"`,
        ...(log.next ? { "X-Truncated-At": String(REPORT_CAP) } : {}),
      },
    });
  },
});
