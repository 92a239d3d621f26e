/**
 * Finished videos, stored under `${DATA_DIR}/videos/` by generation id and served at signed,
 * expiring URLs (DESIGN.md, "Storage and URLs"). Writes go to a temp file and are renamed into
 * place, so a reader never sees half a video.
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { ProviderError } from "./providers/types.ts";
import { hmacSha256 } from "./crypto.ts";
import { fetchCheckingRedirects, OutboundRequestError, type Resolver } from "./net/ssrf.ts";
import type { Config } from "./config.ts";
import { s3Backend, type S3Settings } from "./storage/s3.ts";
import { StorageError, type VideoBackend, type VideoContainer } from "./storage/types.ts";

export { StorageError, type VideoBackend };

export interface StoredVideo {
  bytes: number;
  contentType: string;
}

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

// ---------------------------------------------------------------------------------------------
// Containers

type Container = VideoContainer;

const CONTAINERS: Container[] = [
  { contentType: "video/mp4", ext: "mp4" },
  { contentType: "video/quicktime", ext: "mov" },
  { contentType: "video/webm", ext: "webm" },
  { contentType: "video/x-matroska", ext: "mkv" },
];
const byExt = (ext: string) => CONTAINERS.find((c) => c.ext === ext)!;

/** Bytes needed from the start of a file to recognise its container. */
const HEAD_BYTES = 64;

/** The container a file's first bytes announce: an ISO-BMFF `ftyp` box or an EBML header. */
export function sniffVideoContainer(head: Uint8Array): Container | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 12 && ascii(4, 8) === "ftyp") {
    const boxSize = new DataView(head.buffer, head.byteOffset).getUint32(0);
    if (boxSize !== 1 && boxSize < 12) return null;
    return byExt(ascii(8, 12) === "qt  " ? "mov" : "mp4");
  }
  if (
    head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3
  ) {
    return byExt(ascii(4, head.length).includes("webm") ? "webm" : "mkv");
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Backends

const GEN_ID = /^[A-Za-z0-9_-]{1,100}$/;

function checkGenId(genId: string): void {
  if (!GEN_ID.test(genId)) throw new Error(`Invalid generation id for storage: ${genId}`);
}

export function videosDir(dataDir: string): string {
  return `${dataDir.replace(/\/$/, "")}/videos`;
}

/**
 * The `local` backend: `${DATA_DIR}/videos/{genId}.{ext}`. A write goes to a temp file renamed
 * into place, so a reader never sees half a video, and a failed one leaves nothing.
 */
export function localBackend(dataDir: string): VideoBackend {
  const dir = videosDir(dataDir);
  return {
    kind: "local",
    async write(genId, container, body) {
      checkGenId(genId);
      await Deno.mkdir(dir, { recursive: true });
      const temp = `${dir}/.${genId}.${crypto.randomUUID()}.part`;
      try {
        const file = await Deno.open(temp, { write: true, createNew: true });
        await body.pipeTo(file.writable); // closes the file, also on error
        const { size } = await Deno.stat(temp);
        await Deno.rename(temp, `${dir}/${genId}.${container.ext}`);
        for (const other of CONTAINERS) {
          if (other.ext !== container.ext) {
            await Deno.remove(`${dir}/${genId}.${other.ext}`).catch(() => {});
          }
        }
        return size;
      } catch (err) {
        await Deno.remove(temp).catch(() => {});
        throw err;
      }
    },
    serve: (req, genId) => serveVideo(req, dataDir, genId),
    async remove(genId) {
      checkGenId(genId);
      for (const c of CONTAINERS) {
        await Deno.remove(`${dir}/${genId}.${c.ext}`).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    },
    async size(genId) {
      const found = GEN_ID.test(genId) ? await openVideo(dataDir, genId) : null;
      if (!found) return null;
      using file = found.file;
      return (await file.stat()).size;
    },
  };
}

/** The backend the configuration names (STORAGE), one per configuration. */
export function backendFor(config: Config): VideoBackend {
  let backend = backends.get(config);
  if (!backend) {
    backend = config.STORAGE === "s3"
      ? s3Backend(s3SettingsFrom(config))
      : localBackend(config.DATA_DIR);
    backends.set(config, backend);
  }
  return backend;
}

/** The S3_* settings; an error naming each missing one (`migrate` runs before STORAGE=s3). */
export function s3SettingsFrom(config: Config): S3Settings {
  const missing = (["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const)
    .filter((name) => !config[name]);
  if (missing.length) throw new Error(`${missing.join(", ")}: required for s3 storage`);
  return {
    endpoint: config.S3_ENDPOINT ?? `https://s3.${config.S3_REGION}.amazonaws.com`,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET!,
    accessKeyId: config.S3_ACCESS_KEY_ID!,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY!,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    prefix: config.S3_PREFIX,
  };
}
const backends = new WeakMap<Config, VideoBackend>();

/** A DATA_DIR path stands for the local backend (what callers before backends passed). */
const asBackend = (to: VideoBackend | string) => typeof to === "string" ? localBackend(to) : to;

// ---------------------------------------------------------------------------------------------
// Storing

/**
 * Reads a stream's first bytes to recognise the container, then hands the whole stream (those
 * bytes first) to the backend. A stream that is not a video is refused before anything is written.
 */
async function storeStream(
  backend: VideoBackend,
  genId: string,
  body: ReadableStream<Uint8Array>,
  notVideo: (headBytes: number) => ProviderError,
): Promise<StoredVideo> {
  const reader = body.getReader();
  const seen: Uint8Array[] = [];
  let seenBytes = 0;
  while (seenBytes < HEAD_BYTES) {
    const { value, done } = await reader.read();
    if (done) break;
    seen.push(value);
    seenBytes += value.length;
  }
  const head = new Uint8Array(seenBytes);
  seen.reduce((at, c) => (head.set(c, at), at + c.length), 0);
  const container = sniffVideoContainer(head.subarray(0, HEAD_BYTES));
  if (!container) {
    await reader.cancel();
    throw notVideo(seenBytes);
  }
  const whole = new ReadableStream<Uint8Array>({
    start(c) {
      if (head.length) c.enqueue(head);
    },
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  const bytes = await backend.write(genId, container, whole);
  return { bytes, contentType: container.contentType };
}

/** Stores a local file (the local model's render, once ffmpeg is done). The source stays. */
export async function storeVideoFromFile(
  to: VideoBackend | string,
  genId: string,
  path: string,
): Promise<StoredVideo> {
  checkGenId(genId);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ProviderError(`The rendered video ${path} does not exist`, false);
    }
    throw err;
  }
  // The stream closes the file when it ends or is cancelled.
  return await storeStream(
    asBackend(to),
    genId,
    file.readable,
    () => new ProviderError(`${path} is not an MP4, MOV or WebM video`, false),
  );
}

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

// ---------------------------------------------------------------------------------------------
// Signed URLs

function videoHmac(secretKey: string, genId: string, exp: number): Uint8Array {
  // The "video:" prefix keeps these MACs apart from anything else SECRET_KEY signs.
  return hmacSha256(secretKey, `video:${genId}:${exp}`);
}

// Signed URLs change once an hour per generation, and clients poll every second or so: the
// same URL is asked for again and again. A bounded memo spares the HMAC on the poll path.
const signedUrls = new Map<string, string>();
const SIGNED_URL_MEMO = 10_000;

/** A link to the stored video that works without an API key until `expiresAtSec`. */
// deno-lint-ignore require-await
export async function signVideoUrl(
  publicUrl: string,
  secretKey: string,
  genId: string,
  expiresAtSec: number,
): Promise<string> {
  const memoKey = `${genId}|${expiresAtSec}|${publicUrl}|${secretKey}`;
  const known = signedUrls.get(memoKey);
  if (known) return known;
  checkGenId(genId);
  if (!Number.isSafeInteger(expiresAtSec) || expiresAtSec < 0) {
    throw new Error(`Invalid expiry: ${expiresAtSec}`);
  }
  const sig = Buffer.from(videoHmac(secretKey, genId, expiresAtSec)).toString("base64url");
  const url = `${
    publicUrl.replace(/\/+$/, "")
  }/files/videos/${genId}.mp4?exp=${expiresAtSec}&sig=${sig}`;
  if (signedUrls.size >= SIGNED_URL_MEMO) signedUrls.delete(signedUrls.keys().next().value!);
  signedUrls.set(memoKey, url);
  return url;
}

/** True when `sig` was made by signVideoUrl for this id and expiry and it has not expired. */
// deno-lint-ignore require-await
export async function verifyVideoSignature(
  secretKey: string,
  genId: string,
  exp: string | number | null,
  sig: string | null,
  nowSec: number,
): Promise<boolean> {
  if (!GEN_ID.test(genId) || exp === null || sig === null) return false;
  if (!/^\d{1,15}$/.test(String(exp))) return false;
  const expSec = Number(exp);
  if (nowSec > expSec) return false;
  if (!/^[A-Za-z0-9_-]{43}$/.test(sig)) return false;
  const given = Buffer.from(sig, "base64url");
  const expected = videoHmac(secretKey, genId, expSec);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// ---------------------------------------------------------------------------------------------
// Serving

/** A byte range to send, or why the Range header cannot be honoured. */
export type RangeRequest = { start: number; end: number } | "unsatisfiable" | null;

/**
 * Parses a single `bytes=` range against a file size: `a-b`, `a-` and suffix `-n`. Multiple or
 * malformed ranges give null (send the whole file, which RFC 9110 allows).
 */
export function parseRange(header: string, size: number): RangeRequest {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return "unsatisfiable";
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  return end < start ? null : { start, end };
}

/**
 * Answers a GET or HEAD for a stored video: streamed from disk, with ETag, caching and single
 * byte ranges (players seek with them). 404 when there is no such video.
 */
export async function serveVideo(req: Request, dataDir: string, genId: string): Promise<Response> {
  const found = GEN_ID.test(genId) ? await openVideo(dataDir, genId) : null;
  if (!found) return notFound();
  const { file, container } = found;
  let handedOff = false;
  try {
    const info = await file.stat();
    const size = info.size;
    const mtime = info.mtime ?? new Date(0);
    const etag = `"${size.toString(36)}-${mtime.getTime().toString(36)}"`;
    const headers = new Headers({
      "Content-Type": container.contentType,
      "Accept-Ranges": "bytes",
      "ETag": etag,
      "Last-Modified": mtime.toUTCString(),
      // A generation's video never changes; the signed URL decides who may fetch it.
      "Cache-Control": "private, max-age=86400, immutable",
      "Content-Disposition": `inline; filename="${genId}.${container.ext}"`,
      "X-Content-Type-Options": "nosniff",
    });

    if (etagMatches(req.headers.get("if-none-match"), etag)) {
      return new Response(null, { status: 304, headers });
    }

    let range: RangeRequest = null;
    const rangeHeader = req.headers.get("range");
    const ifRange = req.headers.get("if-range");
    if (rangeHeader && (ifRange === null || ifRange === etag)) {
      range = parseRange(rangeHeader, size);
    }
    if (range === "unsatisfiable") {
      headers.set("Content-Range", `bytes */${size}`);
      headers.set("Content-Length", "0");
      return new Response(null, { status: 416, headers });
    }

    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : size;
    headers.set("Content-Length", String(length));
    if (range) headers.set("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    const status = range ? 206 : 200;
    if (req.method === "HEAD" || length === 0) return new Response(null, { status, headers });
    handedOff = true;
    return new Response(fileRangeStream(file, start, length), { status, headers });
  } finally {
    if (!handedOff) file.close();
  }
}

async function openVideo(dataDir: string, genId: string) {
  for (const container of CONTAINERS) {
    try {
      const file = await Deno.open(`${videosDir(dataDir)}/${genId}.${container.ext}`);
      return { file, container };
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return null;
}

function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === "*" ||
    ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

function notFound(): Response {
  return Response.json(
    {
      message: "Video not found",
      error: { type: "not_found_error", code: "not_found", param: null },
    },
    { status: 404 },
  );
}

/** Streams `length` bytes from `start`, reading as the client pulls, and closes the file. */
function fileRangeStream(file: Deno.FsFile, start: number, length: number) {
  let remaining = length;
  let positioned = false;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!positioned) {
          await file.seek(start, Deno.SeekMode.Start);
          positioned = true;
        }
        const buf = new Uint8Array(Math.min(64 * 1024, remaining));
        const n = await file.read(buf);
        if (n === null) {
          // The file shrank under us; end short rather than hang.
          close();
          controller.error(new Error("Video file ended early"));
          return;
        }
        remaining -= n;
        controller.enqueue(buf.subarray(0, n));
        if (remaining === 0) {
          close();
          controller.close();
        }
      } catch (err) {
        close();
        controller.error(err);
      }
    },
    cancel() {
      close();
    },
  });
}
