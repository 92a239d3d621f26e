import { define } from "../../../utils.ts";
import { json } from "../../../lib/http/json.ts";
import { getModelDetail } from "../../../lib/catalog/public.ts";

/** One model and its 7-day metrics (compat); `google/veo-3.1` and `google%2Fveo-3.1` both work. */
export const handler = define.handlers({
  async GET(ctx) {
    return json(await getModelDetail(ctx.state.services, ctx.params.slug ?? ""));
  },
});
