import { z } from "zod";
import { define } from "../../../../../utils.ts";
import { json, readJson } from "../../../../../lib/http/json.ts";
import { createApiKey } from "../../../../../lib/db/apikeys.ts";
import { BadRequest, NotFound } from "../../../../../lib/errors.ts";
import { isId } from "../../../../../lib/ids.ts";
import { limitCents, limitReset } from "../../../../../lib/spend/schema.ts";

const body = z.object({
  name: z.string().trim().min(1).max(100),
  /** Unix seconds, like every timestamp in the API. */
  expires_at: z.number().int().positive().max(32503680000).nullable().optional(),
  limit_cents: limitCents.optional(),
  limit_reset: limitReset.default("never"),
});

/**
 * Creates an API key for an org: `{name, expires_at?, limit_cents?, limit_reset?}` -> `{id, key}`;
 * the key is shown once.
 */
export const handler = define.handlers({
  async POST(ctx) {
    const { services } = ctx.state;
    const orgId = ctx.params.org;
    if (!isId("org", orgId)) throw new NotFound("No organization with this id", "org");
    const { name, expires_at, limit_cents, limit_reset } = await readJson(ctx.req, body);
    const nowMs = services.now();
    if (expires_at && expires_at * 1000 <= nowMs) {
      throw new BadRequest("expires_at must be in the future", "expires_at");
    }
    const created = await createApiKey(services.kv, orgId, {
      name,
      expiresAt: expires_at ? expires_at * 1000 : null,
      limit: limit_cents == null ? null : { limit_cents, limit_reset },
    }, { nowMs });
    return json({ id: created.id, key: created.key });
  },
});
