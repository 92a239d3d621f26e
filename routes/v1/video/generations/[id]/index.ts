import { define } from "../../../../../utils.ts";
import { json } from "../../../../../lib/http/json.ts";
import { getGeneration, toApiGeneration } from "../../../../../lib/generations/service.ts";
import type { GenerationRecord } from "../../../../../lib/db/generations.ts";

/** One generation of the key's org (compat shape); another org's id is 404. */
export const handler = define.handlers({
  async GET(ctx) {
    const { services, apiKey } = ctx.state;
    const known = ctx.state.prefetched?.[0] as Deno.KvEntryMaybe<GenerationRecord> | undefined;
    const g = await getGeneration(services.kv, apiKey!.orgId, ctx.params.id, known);
    const { publicUrl, secretKey } = services.config;
    return json(await toApiGeneration(g, { publicUrl, secretKey, nowMs: services.now() }));
  },
});
