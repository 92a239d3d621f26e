import { define } from "../../../utils.ts";
import {
  generationsCsv,
  generationsInRange,
  parseRange,
  REPORT_CAP,
} from "../../../lib/dashboard/usage.ts";

/** The organization's generations of the chosen range as CSV (at most REPORT_CAP rows). */
export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const days = parseRange(ctx.url.searchParams.get("days"));
    const { generations, truncated } = await generationsInRange(services, org!.id, days);
    const today = new Date(services.now()).toISOString().slice(0, 10);
    return new Response(generationsCsv(generations), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="pipevideo-generations-${days}d-${today}.csv"`,
        ...(truncated ? { "X-Truncated-At": String(REPORT_CAP) } : {}),
      },
    });
  },
});
