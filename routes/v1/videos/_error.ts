import { define } from "../../../utils.ts";
import { logIfUnexpected, toApiError } from "../../../lib/http/errors.ts";
import { toOpenAiError } from "../../../lib/api/openai.ts";

/** Errors under /v1/videos answer in OpenAI's envelope `{error: {message, type, param, code}}`. */
export const handler = define.handlers((ctx) => {
  const { requestId, services } = ctx.state;
  logIfUnexpected(services.log, ctx.error, { request_id: requestId, path: ctx.url.pathname });
  const { status, headers, body } = toApiError(ctx.error);
  headers.set("Content-Type", "application/json; charset=utf-8");
  if (requestId) headers.set("X-Request-Id", requestId);
  return new Response(
    JSON.stringify({ ...toOpenAiError(body), ...(body.data ? { data: body.data } : {}) }),
    { status, headers },
  );
});
