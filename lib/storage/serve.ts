/** Serving a stored video from local disk: Range, HEAD, ETag. */
import type { Container } from "./containers.ts";

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
 * Answers a GET or HEAD for a stored video's open file (null: 404): streamed, with ETag, caching
 * and single byte ranges (players seek with them). The file is closed once answered.
 */
export async function serveVideoFile(
  req: Request,
  found: { file: Deno.FsFile; container: Container } | null,
  genId: string,
): Promise<Response> {
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
