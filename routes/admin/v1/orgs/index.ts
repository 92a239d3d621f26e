import { z } from "zod";
import { define } from "../../../../utils.ts";
import { json, readJson } from "../../../../lib/http/json.ts";
import { createOrg } from "../../../../lib/db/orgs.ts";

const body = z.object({ name: z.string().trim().min(1).max(100) });

/** Creates an organization: `{name}` -> `{id, name}`. */
export const handler = define.handlers({
  async POST(ctx) {
    const { name } = await readJson(ctx.req, body);
    const org = await createOrg(ctx.state.services.kv, { name }, ctx.state.services.now());
    return json({ id: org.id, name: org.name });
  },
});
