import { define } from "../../../../../utils.ts";
import { callerOf } from "../../../../../lib/api/auth.ts";
import { json } from "../../../../../lib/http/json.ts";
import { getGeneration } from "../../../../../lib/generations/service.ts";
import { generationPresenter } from "../../../../../lib/api/generation.ts";
import type { GenerationRecord } from "../../../../../lib/db/generations.ts";

/** One generation of the key's org (the compat shape plus lib/api's additive fields); another org's id is 404. */
export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const known = ctx.state.prefetched?.[0] as Deno.KvEntryMaybe<GenerationRecord> | undefined;
    const g = await getGeneration(services.kv, caller.orgId, ctx.params.id, known);
    return json(await generationPresenter(services)(g));
  },
});
