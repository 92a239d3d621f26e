import { define } from "../../../utils.ts";
import { callerOf } from "../../../lib/api/auth.ts";
import { json, parseWith } from "../../../lib/http/json.ts";
import { AppError } from "../../../lib/errors.ts";
import { listModels } from "../../../lib/catalog/public.ts";
import { createGeneration } from "../../../lib/generations/service.ts";
import { listGenerationsAfter } from "../../../lib/db/generations.ts";
import {
  readVideoCreateBody,
  videoInput,
  videoListQuerySchema,
  videoParam,
} from "../../../lib/api/openai.ts";
import { videoPresenter } from "../../../lib/api/videos.ts";
import { readCreateHeaders } from "../../../lib/api/headers.ts";

/** OpenAI's Videos API over the same generations: create (charged at submit) and list. */
export const handler = define.handlers({
  async POST(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const headers = readCreateHeaders(ctx.req);
    const body = await readVideoCreateBody(ctx.req);
    let created;
    try {
      created = await createGeneration(
        services.generation,
        caller.orgId,
        videoInput(body, listModels(services)),
        {
          apiKeyId: caller.keyId,
          idempotencyKey: headers.idempotencyKey,
          applicationName: headers.applicationName ?? "openai-videos",
        },
      );
    } catch (err) {
      // Our option names as this surface spells them (seconds, size).
      if (!(err instanceof AppError) || !err.param) throw err;
      throw new AppError(
        err.status,
        err.type,
        err.code,
        err.message,
        videoParam(err.param, body),
        err.headers,
        err.data,
      );
    }
    return json(await videoPresenter(services).byId(caller.orgId, created.id));
  },

  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const q = parseWith(videoListQuerySchema, Object.fromEntries(ctx.url.searchParams));
    const page = await listGenerationsAfter(services.kv, caller.orgId, q);
    const data = await Promise.all(page.data.map(videoPresenter(services).of));
    return json({
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: page.hasMore,
    });
  },
});
