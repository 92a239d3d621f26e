/** Downloading a provider's video behind the SSRF guard (every redirect checked), then storing it. */
import { ProviderError } from "../providers/types.ts";
import { fetchCheckingRedirects, OutboundRequestError, type Resolver } from "../net/ssrf.ts";
import { StorageError, type VideoBackend } from "./types.ts";
import { type StoredVideo, storeStream } from "./store.ts";
import { asBackend } from "./backend.ts";
import { checkGenId } from "./local.ts";

/** Where a provider's video is: its URL and the headers it needs (e.g. the provider's key). */
export interface VideoSource {
  url: string;
  headers?: Record<string, string>;
}

export interface DownloadOptions {
  fetch: typeof fetch;
  /** The download is abandoned past this many bytes. */
  maxBytes: number;
  /** For the whole download, headers and body. */
  timeoutMs: number;
  /**
   * `!config.production`. Providers are semi-trusted, but in production neither their URL nor
   * a redirect from it may lead to a private address (checked on every hop).
   */
  allowPrivate: boolean;
  resolve?: Resolver;
}

/** Redirects a provider's video link may take (e.g. to its CDN), each hop checked. */
export const MAX_DOWNLOAD_REDIRECTS = 3;

/**
 * Downloads a provider's video into storage (their URLs expire or need their key), streaming it
 * to the backend under a size cap and a deadline, and only if it is a video container.
 * Failures are ProviderErrors: retryable for network faults, timeouts, 429 and 5xx.
 */
export async function storeVideoFromUrl(
  to: VideoBackend | string,
  genId: string,
  source: VideoSource,
  opts: DownloadOptions,
): Promise<StoredVideo> {
  checkGenId(genId);
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, opts.timeoutMs);
  const where = describeUrl(source.url);
  try {
    const { res } = await fetchCheckingRedirects(source.url, { headers: source.headers }, {
      allowPrivate: opts.allowPrivate,
      resolve: opts.resolve,
      maxRedirects: MAX_DOWNLOAD_REDIRECTS,
      fetch: opts.fetch,
      signal: abort.signal,
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw downloadStatusError(res, where);
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > opts.maxBytes) {
      await res.body?.cancel();
      throw tooLarge(where, opts.maxBytes);
    }
    if (!res.body) throw new ProviderError(`The video at ${where} has an empty body`, false);

    let bytes = 0;
    const capped = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          bytes += chunk.length;
          if (bytes > opts.maxBytes) throw tooLarge(where, opts.maxBytes);
          c.enqueue(chunk);
        },
        flush() {
          // A body shorter than its Content-Length is a truncated transfer, not a video.
          if (Number.isFinite(declared) && bytes < declared) {
            throw new ProviderError(
              `The video at ${where} was cut off after ${bytes} of ${declared} bytes`,
              true,
            );
          }
        },
      }),
    );
    return await storeStream(asBackend(to), genId, capped, (n) => {
      const type = res.headers.get("content-type") ?? "no content type";
      return new ProviderError(
        `The file at ${where} is not a video (${type}, ${n} bytes, no MP4/WebM signature)`,
        false,
      );
    });
  } catch (err) {
    abort.abort();
    if (err instanceof ProviderError || err instanceof StorageError) throw err;
    if (timedOut) {
      throw new ProviderError(
        `Downloading the video from ${where} timed out after ${opts.timeoutMs} ms`,
        true,
      );
    }
    if (err instanceof OutboundRequestError) throw outboundFailure(err, where);
    if (err instanceof TypeError || (err instanceof Error && err.name === "AbortError")) {
      throw new ProviderError(`Downloading the video from ${where} failed: ${err.message}`, true);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A refused or failed hop as a ProviderError. A refusal (a private target, a non-http(s) link,
 * a redirect loop) will not change on retry; a network or DNS failure may. Messages name hosts,
 * never query strings (signed links).
 */
function outboundFailure(err: OutboundRequestError, where: string): ProviderError {
  switch (err.reason) {
    case "fetch_failed":
      return new ProviderError(
        `Downloading the video from ${where} failed: ${
          (err.cause as Error)?.message ?? err.reason
        }`,
        true,
      );
    case "unresolvable_host":
      return new ProviderError(`Downloading the video from ${where} failed: ${err.message}`, true);
    case "too_many_redirects":
      return new ProviderError(
        `The video at ${where} redirects more than ${MAX_DOWNLOAD_REDIRECTS} times`,
        false,
      );
    case "unsupported_url":
      return new ProviderError(`The video at ${where} leads to a link that is not http(s)`, false);
    default:
      return new ProviderError(
        `Downloading the video from ${where} was refused: ${err.message}`,
        false,
      );
  }
}

function downloadStatusError(res: Response, where: string): ProviderError {
  const s = res.status;
  if (s === 404 || s === 410) {
    return new ProviderError(
      `The video at ${where} is gone (HTTP ${s}); the link may have expired`,
      false,
      s,
    );
  }
  if (s === 401 || s === 403) {
    return new ProviderError(
      `The video at ${where} was refused (HTTP ${s}); a signed link may have expired`,
      false,
      s,
    );
  }
  const retryable = s === 408 || s === 429 || s >= 500;
  return new ProviderError(
    `Downloading the video from ${where} failed with HTTP ${s}`,
    retryable,
    s,
    retryAfterMs(res.headers.get("retry-after")),
  );
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function tooLarge(where: string, maxBytes: number): ProviderError {
  return new ProviderError(
    `The video at ${where} is larger than the ${maxBytes}-byte limit`,
    false,
  );
}

/** The URL without its query, which often holds a signature that must not reach logs. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
