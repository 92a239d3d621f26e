import { define } from "../../../../utils.ts";
import { callerOf } from "../../../../lib/api/auth.ts";
import { parseWith } from "../../../../lib/http/json.ts";
import { z } from "zod";
import { AppError, NotFound } from "../../../../lib/errors.ts";
import { getVideoRecord } from "../../../../lib/api/videos.ts";
import { backendFor } from "../../../../lib/storage/mod.ts";

const querySchema = z.strictObject({
  variant: z.enum(["video", "thumbnail", "spritesheet"]).default("video"),
});

/** The video's bytes (MP4) with the API key, as OpenAI's downloadContent reads them. */
export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const { variant } = parseWith(querySchema, Object.fromEntries(ctx.url.searchParams));
    const g = await getVideoRecord(services.kv, caller.orgId, ctx.params.id);
    if (variant !== "video") {
      throw new AppError(
        404,
        "invalid_request_error",
        "unsupported",
        `The ${variant} variant is not available for videos of this gateway`,
        "variant",
      );
    }
    if (g.status !== "completed" || !g.output || g.output_expired_at) {
      throw new NotFound(
        g.status === "completed"
          ? `The video of ${g.id} was deleted`
          : `Video ${g.id} is ${g.status}; its content exists once it is completed`,
        "id",
      );
    }
    return await backendFor(services.config).serve(ctx.req, g.id);
  },
});
