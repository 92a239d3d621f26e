import { Forbidden, PayloadTooLarge } from "../errors.ts";
import type { Config } from "../config.ts";
import { backendFor } from "../storage/mod.ts";

/** Headers every response carries. Scripts only from this origin (islands are external files). */
export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    // Stripe Checkout is reached by a redirect after a form post.
    "form-action 'self' https://checkout.stripe.com",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
};

const SECURITY_ENTRIES = Object.entries(SECURITY_HEADERS);

/**
 * The pages' Content-Security-Policy: with s3, a video's link redirects to the bucket, which
 * media-src must then allow.
 */
export function pageCsp(config: Config): string {
  let csp = csps.get(config);
  if (!csp) {
    csp = SECURITY_HEADERS["Content-Security-Policy"];
    const bucket = backendFor(config).mediaOrigin;
    if (bucket) csp = csp.replace(/media-src ([^;]*)/, `media-src $1 ${bucket}`);
    csps.set(config, csp);
  }
  return csp;
}
const csps = new WeakMap<Config, string>();

/** Browsers keep to https for a year once they have seen this over https. */
export const HSTS = "max-age=31536000";

/** HSTS only in production behind an https PUBLIC_URL: on http it would be ignored or wrong. */
export function usesHsts(config: { production: boolean; publicUrl: string }): boolean {
  return config.production && config.publicUrl.startsWith("https://");
}

/**
 * Adds the security headers (a route's own Content-Security-Policy wins), HSTS when `hsts`,
 * and `extra`.
 */
export function applySecurityHeaders(
  res: Response,
  extra: Record<string, string> = {},
  hsts = false,
  csp = SECURITY_HEADERS["Content-Security-Policy"], // e.g. with the video bucket's origin
): Response {
  return withHeaders(res, (headers) => {
    // Headers.has/set each scan the whole list: set the fixed ones blind, check only the CSP.
    for (const [k, v] of SECURITY_ENTRIES) {
      if (k !== "Content-Security-Policy") headers.set(k, v);
      else if (!headers.has(k)) headers.set(k, csp);
    }
    if (hsts) headers.set("Strict-Transport-Security", HSTS);
    for (const k in extra) headers.set(k, extra[k]);
  });
}

/**
 * Changes a response's headers in place. A response with immutable headers (one passed through
 * from fetch) is copied first; copying every response would turn each body into a stream, which
 * costs throughput and drops Content-Length.
 */
export function withHeaders(res: Response, change: (headers: Headers) => void): Response {
  try {
    change(res.headers);
    return res;
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const copy = new Response(res.body, res);
    change(copy.headers);
    return copy;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses state-changing requests a browser sends from another site (Sec-Fetch-Site, else
 * Origin). Clients that send neither header (curl, SDKs) are not browsers and pass; bearer-token
 * APIs and signed webhooks are exempt because a cross-site form cannot carry their credentials.
 */
export function checkCsrf(
  req: Request,
  url: URL,
  trustedOrigins: string[],
  exempt: (path: string) => boolean,
) {
  if (SAFE_METHODS.has(req.method) || exempt(url.pathname)) return;
  const site = req.headers.get("Sec-Fetch-Site");
  const origin = req.headers.get("Origin");
  if (site) {
    if (site === "same-origin" || site === "none") return;
    throw new Forbidden("Cross-site request refused");
  }
  if (origin && origin !== url.origin && !trustedOrigins.includes(origin)) {
    throw new Forbidden("Cross-origin request refused");
  }
}

/** Rejects bodies over the limit: by Content-Length up front, or while streaming otherwise. */
export function limitBody(req: Request, limit: number): Request {
  if (!req.body) return req;
  const length = req.headers.get("Content-Length");
  if (length !== null) {
    if (Number(length) > limit) throw new PayloadTooLarge(limit);
    return req;
  }
  let seen = 0;
  const limited = req.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(new PayloadTooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Request(req, { body: limited, duplex: "half" } as RequestInit);
}
