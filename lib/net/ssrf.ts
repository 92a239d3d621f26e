import ipaddr from "ipaddr.js";
import { BadRequest } from "../errors.ts";
import { pinnedFetch } from "./pinned_fetch.ts";

/**
 * Outbound requests to URLs that users give us (webhook endpoints, image URLs) must not reach
 * the server's own network: loopback, private ranges, cloud metadata (169.254.169.254), etc.
 *
 * DNS rebinding (a second, different answer between the check and the connection) is closed by
 * connecting to the address that was checked (pinnedFetch), with the URL's own Host and SNI.
 */

export type Resolver = (host: string, signal?: AbortSignal) => Promise<string[]>;

export type OutboundFailure =
  | "unsupported_url"
  | "unsafe_url"
  | "unresolvable_host"
  | "fetch_timeout"
  | "fetch_failed"
  | "response_too_large"
  | "too_many_redirects";

/** An outbound URL was refused or its fetch failed; `code` says why, the message says it to a user. */
export class OutboundRequestError extends BadRequest {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
    param: string | null = null,
    cause?: unknown,
  ) {
    super(message, param, reason);
    if (cause !== undefined) this.cause = cause;
  }
}

/** The IPv4 address embedded in IPv6 forms that reach IPv4 hosts (mapped, NAT64, 6to4). */
function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = addr.range();
  const p = addr.parts;
  if (range === "ipv4Mapped") return addr.toIPv4Address();
  // Well-known NAT64 prefix 64:ff9b::/96 (RFC 6052): the last 32 bits are the IPv4 target.
  if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0)) {
    return new ipaddr.IPv4([p[6] >> 8, p[6] & 0xff, p[7] >> 8, p[7] & 0xff]);
  }
  // 6to4 (2002::/16) carries the IPv4 address in bits 16..47.
  if (range === "6to4") return new ipaddr.IPv4([p[1] >> 8, p[1] & 0xff, p[2] >> 8, p[2] & 0xff]);
  return null;
}

/**
 * True unless `ip` is a plain public unicast address. Anything that is not a valid address is
 * treated as private (fail closed). Accepts URL spellings: "[::1]", decimal/octal/hex IPv4.
 */
export function isPrivateAddress(ip: string): boolean {
  const text = ip.trim().replace(/^\[(.*)\]$/, "$1");
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(text);
  } catch {
    return true;
  }
  if (addr.kind() === "ipv4") return addr.range() !== "unicast";
  const v6 = addr as ipaddr.IPv6;
  const v4 = embeddedIPv4(v6);
  if (v4) return v4.range() !== "unicast";
  // ::/96 (IPv4-compatible, deprecated) is "unicast" to ipaddr.js but reaches IPv4 hosts.
  if (v6.parts.slice(0, 6).every((x) => x === 0)) return true;
  return v6.range() !== "unicast";
}

/** Deno's resolver: every A and AAAA record; a missing record type is not an error. */
export const resolveWithDns: Resolver = async (host, signal) => {
  const lookups = (["A", "AAAA"] as const).map((type) =>
    Deno.resolveDns(host, type, { signal }).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return [] as string[];
      throw err;
    })
  );
  return (await Promise.all(lookups)).flat();
};

export interface UrlPolicy {
  /** True in development and test (config.production false): local targets are fine there. */
  allowPrivate: boolean;
  resolve?: Resolver;
  /** The request field that carried the URL, for the error's `param` (e.g. "image_url"). */
  param?: string;
  signal?: AbortSignal;
}

function isLocalhostName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost"); // RFC 6761: always loopback
}

/**
 * Parses `url` and refuses it unless it is http(s) and, when private targets are not allowed,
 * every address its host resolves to is public. Returns the parsed URL.
 */
export async function assertPublicUrl(url: string, opts: UrlPolicy): Promise<URL> {
  return (await checkPublicUrl(url, opts)).url;
}

/** assertPublicUrl, also returning the checked address to connect to (null: no name resolved). */
async function checkPublicUrl(
  url: string,
  opts: UrlPolicy,
): Promise<{ url: URL; address: string | null }> {
  const param = opts.param ?? null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundRequestError("unsupported_url", `Invalid URL: ${url}`, param);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new OutboundRequestError(
      "unsupported_url",
      `Only http and https URLs are allowed, got ${parsed.protocol.replace(/:$/, "")}`,
      param,
    );
  }
  if (opts.allowPrivate) return { url: parsed, address: null };

  // URL has already normalised odd IPv4 spellings (0x7f.1, 2130706433) to dotted quads.
  const host = parsed.hostname.replace(/\.$/, "").toLowerCase();
  const refuse = (why: string) =>
    new OutboundRequestError(
      "unsafe_url",
      `URL host ${parsed.hostname} is not allowed: ${why}`,
      param,
    );
  if (isLocalhostName(host)) throw refuse("it is a loopback name");
  if (ipaddr.isValid(host.replace(/^\[(.*)\]$/, "$1"))) {
    if (isPrivateAddress(host)) throw refuse("it is a private, loopback or reserved address");
    return { url: parsed, address: null };
  }
  const resolve = opts.resolve ?? resolveWithDns;
  let addresses: string[];
  try {
    addresses = await resolve(host, opts.signal);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new OutboundRequestError(
      "unresolvable_host",
      `Could not resolve ${host}: ${(err as Error).message}`,
      param,
    );
  }
  if (addresses.length === 0) {
    throw new OutboundRequestError("unresolvable_host", `Could not resolve ${host}`, param);
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw refuse(`it resolves to ${bad}, a private, loopback or reserved address`);
  return { url: parsed, address: addresses[0] };
}

export interface GuardedFetchOptions extends RedirectPolicy {
  /** Body bytes kept; the rest is not read. */
  maxBytes: number;
  /** "truncate" keeps the first maxBytes and sets `truncated`; "throw" refuses the response. */
  overflow?: "truncate" | "throw";
  /** Covers resolving, connecting, every redirect hop and reading the body. */
  timeoutMs: number;
}

export interface GuardedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** The URL that answered, after redirects. */
  url: string;
  truncated: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Rejects when `signal` aborts; detaches its listener once `p` settles. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

async function readCapped(
  res: Response,
  maxBytes: number,
  overflow: "truncate" | "throw",
  param: string | null,
): Promise<{ body: Uint8Array; truncated: boolean }> {
  const tooLarge = () =>
    new OutboundRequestError(
      "response_too_large",
      `Response from ${res.url || "the URL"} is larger than ${maxBytes} bytes`,
      param,
    );
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (overflow === "throw" && declared > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return { body: new Uint8Array(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      truncated = true;
      chunks.push(value.subarray(0, maxBytes - size));
      size = maxBytes;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  if (truncated && overflow === "throw") throw tooLarge();
  const body = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return { body, truncated };
}

// Headers that carry no credential and may follow a redirect to another origin.
const CROSS_ORIGIN_SAFE = new Set(["accept", "accept-encoding", "accept-language", "user-agent"]);

/**
 * Credentials must not follow a redirect to another origin. Providers put keys in headers of
 * their own (Gemini's x-goog-api-key), so everything but a short safe list is dropped.
 */
export function headersForHop(headers: Headers, from: URL, to: URL): Headers {
  if (from.origin === to.origin) return headers;
  const next = new Headers();
  for (const [name, value] of headers) if (CROSS_ORIGIN_SAFE.has(name)) next.set(name, value);
  return next;
}

export interface RedirectPolicy extends UrlPolicy {
  /** 0 = a 3xx is returned as is. */
  maxRedirects: number;
  fetch?: typeof fetch;
}

/**
 * Fetches `url`, checking each destination with assertPublicUrl before connecting and following
 * redirects by hand (at most `maxRedirects`, re-checking every hop, dropping credentials across
 * origins). Returns the final response unread, so the caller may stream it, and the URL that
 * answered. Refusals and network failures are OutboundRequestError (a network failure's `cause`
 * is the fetch error); `opts.signal` aborts every step.
 */
export async function fetchCheckingRedirects(
  url: string,
  init: RequestInit,
  opts: RedirectPolicy,
): Promise<{ res: Response; url: URL }> {
  const doFetch = opts.fetch ?? fetch;
  // The real network connects to the checked address; an injected fetch (tests routing to
  // local servers) is used as given.
  const pin = doFetch === fetch;
  const param = opts.param ?? null;
  let current = url;
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  let headers = new Headers(init.headers);
  for (let hop = 0;; hop++) {
    const checked = opts.signal
      ? await untilAborted(checkPublicUrl(current, opts), opts.signal)
      : await checkPublicUrl(current, opts);
    const target = checked.url;
    let res: Response;
    try {
      const hopInit = {
        ...init,
        method,
        body,
        headers,
        redirect: "manual" as const,
        signal: opts.signal,
      };
      res = pin && checked.address
        ? await pinnedFetch(target, hopInit, checked.address)
        : await doFetch(target, hopInit);
    } catch (err) {
      throw new OutboundRequestError(
        "fetch_failed",
        `Request to ${target.href} failed: ${(err as Error).message}`,
        param,
        err,
      );
    }
    const location = res.headers.get("location");
    if (!REDIRECTS.has(res.status) || !location || opts.maxRedirects <= 0) {
      return { res, url: target };
    }
    await res.body?.cancel();
    if (hop >= opts.maxRedirects) {
      throw new OutboundRequestError(
        "too_many_redirects",
        `More than ${opts.maxRedirects} redirects from ${url}`,
        param,
      );
    }
    const next = new URL(location, target);
    // 303 always, and 301/302 after POST, turn into GET without a body (fetch spec).
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
      method = "GET";
      body = undefined;
      headers = new Headers(headers);
      headers.delete("content-type");
      headers.delete("content-length");
    }
    headers = headersForHop(headers, target, next);
    current = next.href;
  }
}

/**
 * fetch for user-supplied URLs: checks each destination before connecting, follows redirects
 * by hand (re-checking every hop), aborts after `timeoutMs`, reads at most `maxBytes`.
 * Errors are OutboundRequestError with a user-readable message.
 */
export async function guardedFetch(
  url: string,
  init: RequestInit,
  opts: GuardedFetchOptions,
): Promise<GuardedResponse> {
  const param = opts.param ?? null;
  const controller = new AbortController();
  const timedOut = new OutboundRequestError(
    "fetch_timeout",
    `Request to ${url} timed out after ${opts.timeoutMs} ms`,
    param,
  );
  const timer = setTimeout(() => controller.abort(timedOut), opts.timeoutMs);
  const signal = controller.signal;
  try {
    const { res, url: answered } = await fetchCheckingRedirects(url, init, { ...opts, signal });
    const read = await readCapped(res, opts.maxBytes, opts.overflow ?? "truncate", param);
    return { status: res.status, headers: res.headers, url: answered.href, ...read };
  } catch (err) {
    if (err === timedOut || signal.aborted) throw timedOut;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
