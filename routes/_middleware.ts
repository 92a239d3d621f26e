import { define } from "../utils.ts";
import {
  applySecurityHeaders,
  checkCsrf,
  limitBody,
  pageCsp,
  usesHsts,
} from "../lib/http/security.ts";
import { newId } from "../lib/ids.ts";
import { recordHttpRequest } from "../lib/telemetry/metrics.ts";

// Bearer-token APIs and signed webhooks cannot be forged by a cross-site form.
const CSRF_EXEMPT = /^\/(v1|admin\/v1)\/|^\/api\/stripe\/webhook$/;

// Metric labels take the standard methods only, so odd method names cannot grow the series.
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Outermost: request id, security headers and one log line for every response. */
const observe = define.middleware(async (ctx) => {
  const started = performance.now();
  ctx.state.requestId = newId("req");
  const res = await ctx.next();
  const out = applySecurityHeaders(
    res,
    { "X-Request-Id": ctx.state.requestId },
    usesHsts(ctx.state.services.config),
    pageCsp(ctx.state.services.config),
  );
  const seconds = (performance.now() - started) / 1000;
  recordHttpRequest(
    ctx.route,
    METHODS.has(ctx.req.method) ? ctx.req.method : "other",
    out.status,
    seconds,
  );
  ctx.state.services.log("info", "request", {
    request_id: ctx.state.requestId,
    method: ctx.req.method,
    path: loggedPath(ctx.url.pathname, ctx.params),
    status: out.status,
    duration_ms: Math.round(seconds * 10_000) / 10,
  });
  return out;
});

// Route params that are secrets (invitation and sign-in tokens) never reach the log.
const SECRET_PARAMS = ["token"];

function loggedPath(path: string, params: Record<string, string>): string {
  for (const name of SECRET_PARAMS) {
    const value = params[name];
    if (value) {
      path = path.replace(encodeURIComponent(value), "[redacted]").replace(value, "[redacted]");
    }
  }
  return path;
}

/** Then the guards: their errors become responses that `observe` still logs and decorates. */
const guard = define.middleware((ctx) => {
  const { config } = ctx.state.services;
  ctx.req = limitBody(ctx.req, config.MAX_BODY_BYTES);
  checkCsrf(ctx.req, ctx.url, trustedOrigins(config.publicUrl), isCsrfExempt);
  return ctx.next();
});

const isCsrfExempt = (path: string) => CSRF_EXEMPT.test(path);

// PUBLIC_URL's origin, parsed once per value rather than on every request.
let parsedOrigin: { publicUrl: string; origins: string[] } | null = null;
function trustedOrigins(publicUrl: string): string[] {
  if (parsedOrigin?.publicUrl !== publicUrl) {
    parsedOrigin = { publicUrl, origins: [new URL(publicUrl).origin] };
  }
  return parsedOrigin.origins;
}

export const handler = [observe, guard];
