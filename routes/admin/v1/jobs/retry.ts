import { z } from "zod";
import { define } from "../../../../utils.ts";
import { json, readJson } from "../../../../lib/http/json.ts";
import { retryDeadJob } from "../../../../lib/db/jobs.ts";
import { NotFound } from "../../../../lib/errors.ts";

const body = z.object({
  type: z.string().min(1).max(100),
  id: z.string().min(1).max(200),
});

/** Puts a dead job back to run now with its attempts reset: `{type, id}` -> `{retried: true}`. */
export const handler = define.handlers({
  async POST(ctx) {
    const { type, id } = await readJson(ctx.req, body);
    const { kv, now } = ctx.state.services;
    if (!await retryDeadJob(kv, type, id, now())) {
      throw new NotFound("No dead job with this type and id", "id");
    }
    return json({ retried: true });
  },
});
