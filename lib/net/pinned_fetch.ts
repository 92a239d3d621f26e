import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { LookupFunction } from "node:net";

/**
 * fetch that connects to `address` (already checked) instead of resolving the URL's host again,
 * while the Host header and TLS SNI/certificate check keep the URL's name. This closes the DNS
 * rebinding window between the SSRF check and the connection. Deno's fetch has no way to pin an
 * address, node:http's `lookup` does. Bodies: string, bytes or none (all our callers send).
 */
export function pinnedFetch(url: URL, init: RequestInit, address: string): Promise<Response> {
  const family = address.includes(":") ? 6 : 4;
  const lookup: LookupFunction = (_host, opts, cb) => {
    if (opts.all) {
      (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [{
        address,
        family,
      }]);
    } else cb(null, address, family);
  };
  const body = init.body;
  if (body != null && typeof body !== "string" && !(body instanceof Uint8Array)) {
    return Promise.reject(new TypeError("pinnedFetch sends only string or byte bodies"));
  }
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => headers[k] = v);
  const client = url.protocol === "https:" ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const signal = init.signal;
    if (signal?.aborted) return reject(signal.reason);
    const req = client.request(url, {
      method: init.method ?? "GET",
      headers,
      lookup,
      servername: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    }, (res) => {
      const out = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) out.append(k, one);
      }
      const status = res.statusCode ?? 502;
      const nullBody = status === 204 || status === 304 || init.method === "HEAD";
      if (nullBody) res.resume();
      resolve(
        new Response(
          nullBody ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>,
          { status, statusText: res.statusMessage, headers: out },
        ),
      );
    });
    const onAbort = () => req.destroy(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", reject);
    req.on("close", () => signal?.removeEventListener("abort", onAbort));
    req.end(body ?? undefined);
  });
}
