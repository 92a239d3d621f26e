import { z } from "zod";
import { define } from "../../../../utils.ts";
import { json, readJson } from "../../../../lib/http/json.ts";
import { parseGenerationBody } from "../../../../lib/generations/schema.ts";
import { createGeneration } from "../../../../lib/generations/service.ts";
import { getBalance } from "../../../../lib/db/ledger.ts";
import { enforceRequestLimit } from "../../../../lib/ratelimit.ts";

/**
 * The playground's submit: the API's body schema and createGeneration, authenticated by the
 * session (any role) and charged to the current org exactly like a key would be. Errors answer in
 * the API's JSON shape (the island sends Accept: application/json) with `param` naming the field.
 * Submissions share the API's per-minute limit, counted per organization.
 */
export const handler = define.handlers({
  async POST(ctx) {
    const { services, org } = ctx.state;
    const limitHeaders = await enforceRequestLimit(services, `org:${org!.id}`);
    const input = parseGenerationBody(await readJson(ctx.req, z.unknown()));
    const created = await createGeneration(services.generation, org!.id, input, {
      applicationName: "playground",
    });
    // The new balance, so the island can update the header without a reload.
    const balance_cents = await getBalance(services.kv, org!.id);
    return json({ ...created, balance_cents }, { headers: limitHeaders });
  },
});
