import { extname, join, resolve, sep } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/**
 * Serves files from a folder with ETag / If-None-Match, content types, and no way out of the
 * folder: encoded dots and slashes, backslashes, NUL bytes and absolute paths are refused.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".webmanifest": "application/manifest+json",
};

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/** The file a URL path names inside root, or null when the path is unsafe or names nothing. */
export function resolveStaticPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const segments = decoded.split("/");
  if (segments.some((s) => s === ".." || s === ".")) return null;
  const base = resolve(root);
  const full = resolve(join(base, ...segments));
  if (full !== base && !full.startsWith(base + sep)) return null;
  return full;
}

export interface StaticFile {
  body: Uint8Array;
  etag: string;
  type: string;
  /** Compressed copies, made once on first request (text types only). */
  encoded?: Partial<Record<Encoding, Uint8Array>>;
}

type Encoding = "br" | "gzip";

/** Text is worth compressing; images, fonts and video already are. */
function compressible(type: string): boolean {
  return /^text\/|^application\/(json|javascript|manifest\+json)|^image\/svg/.test(type);
}

/** The best encoding the client accepts (brotli, then gzip), or null. q=0 refuses one. */
export function negotiateEncoding(acceptEncoding: string | null): Encoding | null {
  const accepted = new Set<string>();
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  if (accepted.has("br")) return "br";
  if (accepted.has("gzip")) return "gzip";
  return null;
}

function encode(body: Uint8Array, encoding: Encoding): Uint8Array {
  return encoding === "br"
    ? brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
    : gzipSync(body, { level: 9 });
}

/** The file's content hash, for fingerprinted URLs (`/styles.css?v=HASH`). */
const fingerprints = new Map<string, string>();

/**
 * `path` under `root` with its content hash as `?v=`, so it can be cached for a year and still
 * change with each deploy. Read once per process (static files do not change while it runs).
 */
export function fingerprinted(root: string, path: string): string {
  const full = resolveStaticPath(root, path);
  if (!full) return path;
  let v = fingerprints.get(full);
  if (v === undefined) {
    try {
      v = hashHex(Deno.readFileSync(full));
    } catch {
      v = "";
    }
    fingerprints.set(full, v);
  }
  return v ? `${path}?v=${v}` : path;
}

function hashHex(body: Uint8Array): string {
  // FNV-1a, 2×32 bits: a cache key, not a security boundary; synchronous for render time.
  let a = 0x811c9dc5, b = 0x01000193 ^ body.length;
  for (const byte of body) {
    a = Math.imul(a ^ byte, 0x01000193) >>> 0;
    b = Math.imul(b ^ byte, 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/** A body served like a static file: its ETag is a hash of the content. */
export async function staticFile(body: Uint8Array, type: string): Promise<StaticFile> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>),
  );
  const etag = `"${
    Array.from(hash.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")
  }"`;
  return { body, etag, type };
}

/** Reads static files once and keeps them with their ETag (files under static/ are small). */
export function createStaticServer(root: string) {
  const cache = new Map<string, Promise<StaticFile | null>>();

  async function load(path: string): Promise<StaticFile | null> {
    try {
      const stat = await Deno.stat(path);
      if (!stat.isFile) return null;
      return await staticFile(await Deno.readFile(path), contentType(path));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
        return null;
      }
      throw err;
    }
  }

  return async function serveStatic(req: Request, pathname: string): Promise<Response | null> {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    const path = resolveStaticPath(root, pathname);
    if (!path) return null;
    if (!cache.has(path)) cache.set(path, load(path));
    const file = await cache.get(path)!;
    if (!file) {
      cache.delete(path);
      return null;
    }
    // A fingerprinted URL of the current content never changes: cache it for a year.
    const v = new URL(req.url).searchParams.get("v");
    const immutable = v !== null && v === fingerprints.get(path);
    return fileResponse(
      req,
      file,
      immutable ? "public, max-age=31536000, immutable" : "public, max-age=3600, must-revalidate",
    );
  };
}

/**
 * The file, compressed (brotli or gzip) when it is text and the client accepts it. Each encoding
 * has its own ETag, and `Vary: Accept-Encoding` keeps caches from mixing them up.
 */
export function fileResponse(req: Request, file: StaticFile, cacheControl: string): Response {
  const encoding = compressible(file.type)
    ? negotiateEncoding(req.headers.get("Accept-Encoding"))
    : null;
  let body = file.body;
  let etag = file.etag;
  const headers = new Headers({ "Content-Type": file.type, "Cache-Control": cacheControl });
  if (compressible(file.type)) headers.set("Vary", "Accept-Encoding");
  if (encoding) {
    file.encoded ??= {};
    body = file.encoded[encoding] ??= encode(file.body, encoding);
    etag = `${file.etag.slice(0, -1)}-${encoding}"`;
    headers.set("Content-Encoding", encoding);
  }
  headers.set("ETag", etag);
  const match = req.headers.get("If-None-Match");
  if (match && match.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("Content-Length", String(body.byteLength));
  return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
    headers,
  });
}
