import { z } from "zod";
import { define } from "../../../../utils.ts";
import { callerOf } from "../../../../lib/api/auth.ts";
import { json, parseWith, readJson } from "../../../../lib/http/json.ts";
import {
  generationListQuerySchema,
  parseGenerationBody,
} from "../../../../lib/generations/schema.ts";
import {
  createGeneration,
  getGeneration,
  listGenerations,
} from "../../../../lib/generations/service.ts";
import { generationPresenter } from "../../../../lib/api/generation.ts";
import { readCreateHeaders } from "../../../../lib/api/headers.ts";

export const handler = define.handlers({
  /**
   * Creates a generation: validated, priced and charged in one commit; answers at once with the
   * generation (its cost already set; compat clients read id, status and created_at).
   */
  async POST(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const headers = readCreateHeaders(ctx.req);
    const input = parseGenerationBody(await readJson(ctx.req, z.unknown()));
    const created = await createGeneration(services.generation, caller.orgId, input, {
      apiKeyId: caller.keyId,
      ...headers,
    });
    const g = await getGeneration(services.kv, caller.orgId, created.id);
    return json(await generationPresenter(services)(g));
  },

  /**
   * The org's generations, newest first: `{data, next_cursor}`. A filtered page reads a bounded
   * slice of the history, so it may hold fewer than `limit` (even none) with a next_cursor.
   */
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const q = parseWith(generationListQuerySchema, Object.fromEntries(ctx.url.searchParams));
    const page = await listGenerations(services.kv, caller.orgId, q);
    const data = await Promise.all(page.data.map(generationPresenter(services)));
    return json({ data, next_cursor: page.next_cursor });
  },
});
