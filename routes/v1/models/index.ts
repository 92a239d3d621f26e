import { define } from "../../../utils.ts";
import { json } from "../../../lib/http/json.ts";
import { listModels } from "../../../lib/catalog/public.ts";

/** The models this server offers (compat): `{models: [...]}`. */
export const handler = define.handlers({
  GET(ctx) {
    return json({ models: listModels(ctx.state.services) });
  },
});
