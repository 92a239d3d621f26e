/**
 * The storage contract, run against both backends: `local` on a temp dir and `s3` against
 * OpenStack Swift's s3api (tests/support/swift.ts), a real server that checks SigV4.
 */
import assert from "node:assert/strict";
import { localBackend, storeVideoFromUrl, type VideoBackend } from "./mod.ts";
import { s3Backend, type S3Settings } from "./s3.ts";
import { StorageError } from "./types.ts";
import { ProviderError } from "../providers/types.ts";
import {
  bucketState,
  createBucket,
  s3Settings,
  startSwiftS3,
  swiftClient,
} from "../../tests/support/swift.ts";

const GEN = "gen_01JD0000000000000000000000";
const MiB = 1024 * 1024;
const PART = 5 * MiB; // S3's smallest part

function fakeMp4(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
  bytes.set([0, 0, 0, 24, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
  return bytes;
}
const MP4 = { contentType: "video/mp4", ext: "mp4" };

/** A stream of `bytes` in 64 KiB chunks that errors with `fail` after `failAfter` bytes. */
function streamOf(bytes: Uint8Array, failAfter = Infinity, fail = new Error("cut off")) {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= failAfter) return c.error(fail);
      if (at >= bytes.length) return c.close();
      const n = Math.min(64 * 1024, bytes.length - at);
      c.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

/** GET through the backend's serve(), following a redirect (s3) like a browser would. */
async function fetchServed(b: VideoBackend, genId: string, init: RequestInit = {}) {
  const res = await b.serve(new Request("http://app.test/files", init), genId);
  if (res.status !== 302) return res;
  const location = res.headers.get("location")!;
  return await fetch(location, init);
}

async function contract(t: Deno.TestContext, b: VideoBackend, listing: () => Promise<string[]>) {
  await t.step("small upload: one object, exact bytes, size", async () => {
    const video = fakeMp4(200_000);
    assert.equal(await b.write(GEN, MP4, streamOf(video)), video.length);
    assert.equal(await b.size(GEN), video.length);
    const res = await fetchServed(b, GEN);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), video);
  });

  await t.step("multipart upload (3 parts) and a ranged GET", async () => {
    const video = fakeMp4(2 * PART + 123_457);
    assert.equal(await b.write(GEN, MP4, streamOf(video)), video.length);
    assert.equal(await b.size(GEN), video.length);
    const start = PART - 10, end = PART + 9; // across a part boundary
    const res = await fetchServed(b, GEN, { headers: { range: `bytes=${start}-${end}` } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/${video.length}`);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), video.subarray(start, end + 1));
    const head = await fetchServed(b, GEN, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(video.length));
    await head.body?.cancel();
  });

  await t.step("a transfer that fails midway leaves the previous state, nothing more", async () => {
    const before = await listing();
    const other = "gen_01JD0000000000000000000001";
    const big = fakeMp4(3 * PART);
    const cut = new ProviderError("cut off", true);
    await assert.rejects(b.write(other, MP4, streamOf(big, PART + 100_000, cut)), (e) => e === cut);
    await assert.rejects(b.write(other, MP4, streamOf(big, 1000, cut)), (e) => e === cut);
    assert.equal(await b.size(other), null);
    assert.deepEqual(await listing(), before, "no object, no part, no temp file");
  });

  await t.step("a provider transfer cut short of its Content-Length fails, retryably", async () => {
    const before = await listing();
    const video = fakeMp4(PART + 500_000);
    // A raw server: it promises the whole video, sends part of it and hangs up.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const serving = (async () => {
      for await (const conn of listener) {
        await conn.read(new Uint8Array(16_384));
        const head =
          `HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: ${video.length}\r\n\r\n`;
        await conn.write(new TextEncoder().encode(head));
        for (let at = 0; at < PART;) at += await conn.write(video.subarray(at, PART));
        conn.close();
      }
    })();
    try {
      const url = `http://127.0.0.1:${listener.addr.port}/v.mp4`;
      await assert.rejects(
        storeVideoFromUrl(b, "gen_01JD0000000000000000000002", { url }, {
          fetch,
          maxBytes: 2 * PART,
          timeoutMs: 20_000,
          allowPrivate: true,
        }),
        (err) => err instanceof ProviderError && err.retryable,
      );
      assert.deepEqual(await listing(), before, "nothing stored");
    } finally {
      listener.close();
      await serving.catch(() => {});
    }
  });

  await t.step("delete, then the video is missing; deleting again is fine", async () => {
    await b.remove(GEN);
    assert.equal(await b.size(GEN), null);
    await b.remove(GEN);
    const res = await fetchServed(b, GEN);
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.deepEqual(await listing(), []);
  });
}

Deno.test("storage contract: local", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-contract-" });
  try {
    const b = localBackend(dir);
    await contract(t, b, async () => {
      try {
        return (await Array.fromAsync(Deno.readDir(`${dir}/videos`))).map((e) => e.name).sort();
      } catch {
        return [];
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storage contract: s3 (Swift with s3api)", async (t) => {
  const swift = await startSwiftS3();
  try {
    const settings: S3Settings = { ...s3Settings(swift, "videos"), prefix: "pv/", partBytes: PART };
    await createBucket(swift, "videos");
    const b = s3Backend(settings);
    await contract(t, b, () => bucketState(swift, "videos"));

    await t.step("the GET is a 302 to a presigned URL that expires", async () => {
      await b.write(GEN, MP4, streamOf(fakeMp4(1000)));
      const res = await b.serve(new Request("http://app.test/"), GEN);
      assert.equal(res.status, 302);
      const location = new URL(res.headers.get("location")!);
      assert.equal(location.origin, swift.endpoint);
      assert.equal(location.pathname, `/videos/pv/videos/${GEN}`);
      assert.equal(location.searchParams.get("X-Amz-Expires"), "300");
      location.searchParams.set("X-Amz-Signature", "0".repeat(64));
      const forged = await fetch(location);
      assert.equal(forged.status, 403, "S3 checks the presigned signature");
      await forged.body?.cancel();
      await b.remove(GEN);
    });

    await t.step("a video larger than one part is a multipart upload", async () => {
      await b.write(GEN, MP4, streamOf(fakeMp4(2 * PART + 1)));
      const head = await swiftClient(swift).fetch(
        `${swift.endpoint}/videos/pv/videos/${GEN}`,
        { method: "HEAD" },
      );
      assert.match(head.headers.get("etag")!, /-3"$/, "an S3 multipart ETag names its 3 parts");
      assert.equal(head.headers.get("content-type"), "video/mp4");
      await b.remove(GEN);
    });

    await t.step("wrong credentials: a clear StorageError, nothing stored", async () => {
      const wrong = s3Backend({ ...settings, secretAccessKey: "wrong-secret" });
      for (const size of [1000, 2 * PART + 1]) {
        await assert.rejects(wrong.write(GEN, MP4, streamOf(fakeMp4(size))), (err) => {
          assert.ok(err instanceof StorageError, String(err));
          assert.match(err.message, /SignatureDoesNotMatch.*S3_SECRET_ACCESS_KEY/);
          return true;
        });
      }
      assert.deepEqual(await bucketState(swift, "videos"), []);
    });

    await t.step("a missing bucket: a StorageError naming S3_BUCKET", async () => {
      const missing = s3Backend({ ...settings, bucket: "no-such-bucket" });
      await assert.rejects(
        missing.write(GEN, MP4, streamOf(fakeMp4(1000))),
        (err) =>
          err instanceof StorageError && /does not exist \(check S3_BUCKET\)/.test(err.message),
      );
    });

    await t.step("a provider download over the size cap leaves no object", async () => {
      const video = fakeMp4(PART + 1000);
      const upstream = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        // No Content-Length: the cap is enforced while streaming.
        () => new Response(streamOf(video)),
      );
      try {
        await assert.rejects(
          storeVideoFromUrl(b, GEN, { url: `http://127.0.0.1:${upstream.addr.port}/v.mp4` }, {
            fetch,
            maxBytes: PART,
            timeoutMs: 20_000,
            allowPrivate: true,
          }),
          (err) => err instanceof ProviderError && /larger than/.test(err.message),
        );
        assert.deepEqual(await bucketState(swift, "videos"), []);
        const ok = await storeVideoFromUrl(
          b,
          GEN,
          { url: `http://127.0.0.1:${upstream.addr.port}/v.mp4` },
          { fetch, maxBytes: 2 * PART, timeoutMs: 20_000, allowPrivate: true },
        );
        assert.equal(ok.bytes, video.length);
        assert.equal(await b.size(GEN), video.length);
      } finally {
        await upstream.shutdown();
      }
    });
  } finally {
    await swift.close();
  }
});
