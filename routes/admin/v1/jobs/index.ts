import { z } from "zod";
import { define } from "../../../../utils.ts";
import { json, parseWith } from "../../../../lib/http/json.ts";
import { listJobs, toApiJob } from "../../../../lib/db/jobs.ts";

const query = z.object({
  state: z.enum(["dead", "pending"]),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2000).optional(),
});

/**
 * GET background jobs: `?state=dead` those parked after their last attempt (with its error),
 * `?state=pending` those waiting or running: `{data: [...], next_cursor}`.
 */
export const handler = define.handlers({
  async GET(ctx) {
    const q = parseWith(query, Object.fromEntries(ctx.url.searchParams));
    const page = await listJobs(ctx.state.services.kv, q.state, q);
    return json({
      data: page.data.map((r) => toApiJob(r, q.state)),
      next_cursor: page.next_cursor,
    });
  },
});
