import { define } from "../../../../utils.ts";
import { callerOf } from "../../../../lib/api/auth.ts";
import { json } from "../../../../lib/http/json.ts";
import { deleteVideo, videoPresenter } from "../../../../lib/api/videos.ts";

/** How soon a client polling a queued or running video should ask again. */
const POLL_AFTER_MS = 2000;

export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const video = await videoPresenter(services).byId(caller.orgId, ctx.params.id);
    const done = video.status === "completed" || video.status === "failed";
    return json(video, done ? {} : { headers: { "openai-poll-after-ms": String(POLL_AFTER_MS) } });
  },

  /** Deletes the video: a running generation is cancelled (refunded) first. */
  async DELETE(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    await deleteVideo(services, caller.orgId, ctx.params.id);
    return json({ id: ctx.params.id, object: "video.deleted", deleted: true });
  },
});
