import { define } from "../../utils.ts";
import { apiErrorResponse, logIfUnexpected } from "../../lib/http/errors.ts";

/** Every error under /v1 answers in API.md's JSON shape; a 500 never leaks internals. */
export const handler = define.handlers((ctx) => {
  const { requestId, services } = ctx.state;
  logIfUnexpected(services.log, ctx.error, { request_id: requestId, path: ctx.url.pathname });
  return apiErrorResponse(ctx.error, requestId);
});
