import { define } from "../../../../../../utils.ts";
import { json, readJson } from "../../../../../../lib/http/json.ts";
import { NotFound } from "../../../../../../lib/errors.ts";
import { isId } from "../../../../../../lib/ids.ts";
import { keyLimitPatch } from "../../../../../../lib/spend/schema.ts";
import { updateKeyLimit } from "../../../../../../lib/spend/limits.ts";

/** Changes a key's spend limit: `{limit_cents?, limit_reset?}` -> `{id, limit_cents, limit_reset}`. */
export const handler = define.handlers({
  async PATCH(ctx) {
    const { services } = ctx.state;
    const { org, key } = ctx.params;
    if (!isId("org", org) || !isId("key", key)) throw new NotFound("No such API key", "key");
    const patch = await readJson(ctx.req, keyLimitPatch);
    return json(await updateKeyLimit(services.kv, org, key, patch, services.now()));
  },
});
