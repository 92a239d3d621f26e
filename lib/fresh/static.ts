import { extname, join, resolve, sep } from "node:path";

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
}

/** Reads static files once and keeps them with their ETag (files under static/ are small). */
export function createStaticServer(root: string) {
  const cache = new Map<string, Promise<StaticFile | null>>();

  async function load(path: string): Promise<StaticFile | null> {
    try {
      const stat = await Deno.stat(path);
      if (!stat.isFile) return null;
      const body = await Deno.readFile(path);
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      const etag = `"${
        Array.from(hash.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")
      }"`;
      return { body, etag, type: contentType(path) };
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
    return fileResponse(req, file, "public, max-age=3600, must-revalidate");
  };
}

export function fileResponse(req: Request, file: StaticFile, cacheControl: string): Response {
  const headers = new Headers({
    "Content-Type": file.type,
    "ETag": file.etag,
    "Cache-Control": cacheControl,
  });
  const match = req.headers.get("If-None-Match");
  if (match && match.split(",").some((t) => t.trim().replace(/^W\//, "") === file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("Content-Length", String(file.body.byteLength));
  return new Response(req.method === "HEAD" ? null : file.body as Uint8Array<ArrayBuffer>, {
    headers,
  });
}
