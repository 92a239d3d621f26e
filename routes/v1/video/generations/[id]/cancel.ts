import { define } from "../../../../../utils.ts";
import { callerOf } from "../../../../../lib/api/auth.ts";
import { json } from "../../../../../lib/http/json.ts";
import { cancelGeneration } from "../../../../../lib/generations/service.ts";
import { generationPresenter } from "../../../../../lib/api/generation.ts";

/** Cancels and refunds a pending or processing generation; 409 when it already ended. */
export const handler = define.handlers({
  async POST(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const g = await cancelGeneration(services.generation, caller.orgId, ctx.params.id);
    return json(await generationPresenter(services)(g));
  },
});
