import { define } from "../../../../../utils.ts";
import { callerOf } from "../../../../../lib/api/auth.ts";
import { generationEventsResponse } from "../../../../../lib/api/events.ts";

/**
 * The generation's changes as server-sent events (status, progress, cost), ending after the
 * terminal one; `Last-Event-ID` resumes without repeating the state the client last saw.
 */
export const handler = define.handlers({
  GET(ctx) {
    const { services } = ctx.state;
    const caller = callerOf(ctx.state);
    const lastEventId = ctx.req.headers.get("Last-Event-ID");
    return generationEventsResponse(services, caller.orgId, ctx.params.id, lastEventId);
  },
});
