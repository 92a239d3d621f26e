/**
 * The `s3` video backend: any S3-compatible service (AWS S3, R2, GCS XML API with HMAC keys,
 * MinIO, Tigris, Swift's s3api), signed with SigV4 by aws4fetch (docs/storage.md says why).
 * Uploads stream: a video is cut into parts held one at a time, so memory stays at one part
 * whatever the size; a failed upload is aborted, so no object and no orphan parts remain.
 */
import { AwsClient } from "aws4fetch";
import { ProviderError } from "../providers/types.ts";
import { StorageError, type VideoBackend, type VideoContainer } from "./types.ts";

export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Put before every key, e.g. `pipevideo/`. */
  prefix: string;
  /** Bytes per multipart part (S3's minimum is 5 MiB); a smaller video is one PUT. */
  partBytes?: number;
  /** Lifetime of the presigned GET that output_url redirects to. */
  presignSeconds?: number;
}

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
const PRESIGN_SECONDS = 300;

export function s3Backend(s: S3Settings): VideoBackend {
  // No retries inside the client: the generation workers retry a failed store as a whole.
  const client = new AwsClient({
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    region: s.region,
    service: "s3",
    retries: 0,
  });
  const partBytes = s.partBytes ?? DEFAULT_PART_BYTES;
  const base = new URL(s.endpoint);
  const objectUrl = (genId: string) => {
    const key = `${s.prefix}videos/${genId}`.split("/").map(encodeURIComponent).join("/");
    if (s.forcePathStyle) {
      return `${base.origin}${base.pathname.replace(/\/$/, "")}/${s.bucket}/${key}`;
    }
    return `${base.protocol}//${s.bucket}.${base.host}${base.pathname.replace(/\/$/, "")}/${key}`;
  };

  async function call(what: string, url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await client.fetch(url, init);
    } catch (err) {
      throw new ProviderError(
        `Object storage at ${base.origin} is unreachable (${what}): ${(err as Error).message}`,
        true,
      );
    }
    if (res.ok) return res;
    throw await s3Failure(what, res, s);
  }

  async function putWhole(url: string, body: Uint8Array<ArrayBuffer>, c: VideoContainer) {
    const res = await call("PUT", url, {
      method: "PUT",
      body,
      headers: { "content-type": c.contentType },
    });
    await res.body?.cancel();
  }

  async function putMultipart(
    url: string,
    parts: AsyncIterable<Uint8Array<ArrayBuffer>>,
    c: VideoContainer,
  ): Promise<number> {
    const created = await call("CreateMultipartUpload", `${url}?uploads`, {
      method: "POST",
      headers: { "content-type": c.contentType },
    });
    const uploadId = xmlValue(await created.text(), "UploadId");
    if (!uploadId) throw new StorageError("CreateMultipartUpload answered without an UploadId");
    const etags: string[] = [];
    let bytes = 0;
    try {
      for await (const part of parts) {
        const n = etags.length + 1;
        const res = await call(
          `UploadPart ${n}`,
          `${url}?partNumber=${n}&uploadId=${encodeURIComponent(uploadId)}`,
          { method: "PUT", body: part },
        );
        await res.body?.cancel();
        etags.push(res.headers.get("etag") ?? "");
        bytes += part.length;
      }
      const xml = `<CompleteMultipartUpload>${
        etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`)
          .join("")
      }</CompleteMultipartUpload>`;
      const done = await call(
        "CompleteMultipartUpload",
        `${url}?uploadId=${encodeURIComponent(uploadId)}`,
        { method: "POST", body: xml, headers: { "content-type": "application/xml" } },
      );
      // S3 may answer 200 and still report a failure in the body.
      const text = await done.text();
      if (/<Error>/.test(text)) {
        throw new StorageError(`CompleteMultipartUpload failed: ${xmlValue(text, "Code")}`);
      }
      return bytes;
    } catch (err) {
      await client.fetch(`${url}?uploadId=${encodeURIComponent(uploadId)}`, { method: "DELETE" })
        .then((r) => r.body?.cancel()).catch(() => {});
      throw err;
    }
  }

  return {
    kind: "s3",
    mediaOrigin: new URL(objectUrl("x")).origin,
    async write(genId, container, body) {
      const url = objectUrl(genId);
      const parts = chunked(body, partBytes);
      try {
        const first = await parts.next();
        if (first.done) throw new StorageError(`The video for ${genId} is empty`);
        const second = await parts.next();
        if (second.done) {
          await putWhole(url, first.value, container);
          return first.value.length;
        }
        return await putMultipart(url, prepend([first.value, second.value], parts), container);
      } finally {
        await parts.return(undefined); // cancels the source if the upload stopped early
      }
    },
    async serve(req, genId) {
      // The app's own signed URL was checked by the route; the bytes come from the bucket.
      const url = new URL(objectUrl(genId));
      url.searchParams.set("X-Amz-Expires", String(s.presignSeconds ?? PRESIGN_SECONDS));
      const method = req.method === "HEAD" ? "HEAD" : "GET";
      const signed = await client.sign(url, { method, aws: { signQuery: true } });
      return new Response(null, {
        status: 302,
        headers: { Location: signed.url, "Cache-Control": "private, no-store" },
      });
    },
    async remove(genId) {
      const res = await client.fetch(objectUrl(genId), { method: "DELETE" }).catch((err) => {
        throw new ProviderError(`Object storage is unreachable (DELETE): ${err.message}`, true);
      });
      // Deleting a missing object is success in S3 (204); some services say 404.
      if (res.ok || res.status === 404) return void await res.body?.cancel();
      throw await s3Failure("DELETE", res, s);
    },
    async size(genId) {
      const res = await client.fetch(objectUrl(genId), { method: "HEAD" });
      await res.body?.cancel();
      if (res.status === 404) return null;
      if (!res.ok) throw await s3Failure("HEAD", res, s);
      return Number(res.headers.get("content-length"));
    },
  };
}

async function* prepend<T>(first: T[], rest: AsyncIterable<T>) {
  yield* first;
  yield* rest;
}

/** Re-cuts a byte stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* chunked(
  body: ReadableStream<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  let buf = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length;) {
      const n = Math.min(size - filled, chunk.length - at);
      buf.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === size) {
        yield buf;
        buf = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buf.subarray(0, filled);
}

function xmlValue(xml: string, tag: string): string | null {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? null;
}

/**
 * An S3 refusal as an error an operator can act on. Authentication and a missing bucket are
 * configuration faults (StorageError, not retried); 5xx and throttling are retryable.
 */
async function s3Failure(what: string, res: Response, s: S3Settings): Promise<Error> {
  const code = xmlValue(await res.text().catch(() => ""), "Code") ?? `HTTP ${res.status}`;
  const where = `${what} to bucket "${s.bucket}" at ${new URL(s.endpoint).origin}`;
  if (code === "NoSuchBucket") {
    return new StorageError(`${where}: the bucket does not exist (check S3_BUCKET)`);
  }
  if (
    res.status === 403 &&
    ["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"].includes(code)
  ) {
    return new StorageError(
      `${where} was refused (${code}): check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION`,
    );
  }
  if (res.status >= 500 || res.status === 429 || code === "SlowDown") {
    return new ProviderError(`${where} failed (${code}); object storage is unavailable`, true);
  }
  return new StorageError(`${where} failed with HTTP ${res.status} (${code})`);
}
