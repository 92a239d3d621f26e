import { define } from "../../../../../utils.ts";
import { callerOf } from "../../../../../lib/api/auth.ts";
import { json } from "../../../../../lib/http/json.ts";
import { cancelGeneration } from "../../../../../lib/generations/service.ts";
import { generationPresenter } from "../../../../../lib/api/generation.ts";

/** Cancels a generation: refunded when nothing runs upstream; 409 when it ended or cannot be stopped. */
export const handler = define.handlers({
  async POST(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const g = await cancelGeneration(services.generation, caller.orgId, ctx.params.id);
    return json(await generationPresenter(services)(g));
  },
});
