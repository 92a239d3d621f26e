import { define } from "../../../../../utils.ts";
import { json } from "../../../../../lib/http/json.ts";
import { cancelGeneration, toApiGeneration } from "../../../../../lib/generations/service.ts";

/** Cancels a generation: refunded when nothing runs upstream; 409 when it ended or cannot be stopped. */
export const handler = define.handlers({
  async POST(ctx) {
    const { services, apiKey } = ctx.state;
    const g = await cancelGeneration(services.generation, apiKey!.orgId, ctx.params.id);
    const { publicUrl, secretKey } = services.config;
    return json(await toApiGeneration(g, { publicUrl, secretKey, nowMs: services.now() }));
  },
});
