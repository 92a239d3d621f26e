/**
 * The app with STORAGE=s3 against a real S3-protocol server (Swift's s3api): generations by the
 * local model and by a provider stand-in complete, output_url (our signed link) redirects to a
 * presigned URL serving the stored bytes with ranges; wrong credentials fail and refund.
 */
import assert from "node:assert/strict";
import { verifyLedger } from "../../lib/db/ledger.ts";
import { fixture, replay } from "../support/replay.ts";
import type { ProviderId } from "../../lib/providers/types.ts";
import {
  bucketState,
  createBucket,
  s3Env,
  startSwiftS3,
  swiftClient,
  type SwiftS3,
} from "../support/swift.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { makeTinyMp4, probeVideo } from "../support/video.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";

const FAL_REQ = "/fal-ai/kling-video/requests/764cabcf-b745-4b3e-ae38-1200304cf45b";

async function generate(server: TestServer, key: string, body: Record<string, unknown>) {
  const created = await call(server.url, "POST", "/v1/video/generations", { key, body });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return await waitFor(
    async () => {
      const r = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, { key });
      return ["completed", "failed", "cancelled"].includes(r.body.status) ? r.body : undefined;
    },
    `generation ${created.body.id}`,
    60_000,
  );
}

/** Follows output_url by hand: our 302, then the presigned GET on the bucket. */
async function download(
  server: TestServer,
  swift: SwiftS3,
  outputUrl: string,
  init: RequestInit = {},
) {
  const ours = new URL(outputUrl);
  const first = await fetch(server.url + ours.pathname + ours.search, {
    method: init.method,
    redirect: "manual",
  });
  assert.equal(first.status, 302);
  const location = new URL(first.headers.get("location")!);
  assert.equal(location.origin, swift.endpoint, "the bytes come from the bucket, not the app");
  assert.ok(location.searchParams.get("X-Amz-Signature"));
  return await fetch(location, init);
}

Deno.test("s3 storage end to end over HTTP: local model and a provider stand-in", async () => {
  const swift = await startSwiftS3();
  const dir = await Deno.makeTempDir();
  try {
    await createBucket(swift, "videos");
    await makeTinyMp4(`${dir}/provider.mp4`);
    const video = await Deno.readFile(`${dir}/provider.mp4`);
    const f = await fixture<Record<string, Record<string, unknown>>>("fal");
    const result = JSON.parse(JSON.stringify(f.result));
    result.video.url = "{base}/media/fal.mp4";
    await using upstream = replay([
      {
        method: "POST",
        path: "/fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
        json: f.submitted,
      },
      { method: "GET", path: `${FAL_REQ}/status`, json: f.completed },
      { method: "GET", path: FAL_REQ, json: result },
      {
        method: "GET",
        path: "/media/fal.mp4",
        bytes: video,
        headers: { "content-type": "video/mp4" },
      },
    ]);
    const server = await startTestServer(
      {
        ...s3Env(swift, "videos"),
        S3_PREFIX: "pv",
        RATE_LIMIT_PER_MINUTE: "100000",
        FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
        FAL_QUEUE_URL: upstream.url,
      },
      {},
      { background: true },
    );
    try {
      const adapters = server.services.generation.adapters;
      adapters.fal = { ...adapters.fal!, pollIntervalMs: 20 };
      const org = await fundedOrg(server.services, 10_000);

      const local = await generate(server, org.key, {
        model: "local/preview",
        prompt: "a lighthouse at dusk",
        duration: 1,
        resolution: "360p",
      });
      assert.equal(local.status, "completed", local.error_message);
      const stored = new Uint8Array(
        await (await swiftClient(swift).fetch(`${swift.endpoint}/videos/pv/videos/${local.id}`))
          .arrayBuffer(),
      );
      const served = await download(server, swift, local.output_url);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get("content-type"), "video/mp4");
      assert.deepEqual(new Uint8Array(await served.arrayBuffer()), stored);
      await Deno.writeFile(`${dir}/local.mp4`, stored);
      assert.equal((await probeVideo(`${dir}/local.mp4`)).codec, "h264");
      assert.deepEqual(
        await Array.fromAsync(Deno.readDir(`${server.services.config.DATA_DIR}/videos`)).catch(
          () => [],
        ),
        [],
        "nothing is kept on the app's disk",
      );

      const fal = await generate(server, org.key, {
        model: "kwaivgi/kling-v2.5-turbo-pro",
        prompt: "a red fox running through snow",
        duration: 5,
        resolution: "1080p",
        provider: { order: ["fal" satisfies ProviderId] },
      });
      assert.equal(fal.status, "completed", fal.error_message);
      const whole = await download(server, swift, fal.output_url);
      assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), video, "the exact bytes");
      const ranged = await download(server, swift, fal.output_url, {
        headers: { range: "bytes=100-199" },
      });
      assert.equal(ranged.status, 206);
      assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), video.subarray(100, 200));
      const head = await download(server, swift, fal.output_url, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(video.length));

      // A forged or expired link of ours is 403 in the API error shape, for HEAD too.
      const ours = new URL(fal.output_url);
      ours.searchParams.set("exp", "1000");
      for (const method of ["GET", "HEAD"]) {
        const res = await fetch(server.url + ours.pathname + ours.search, { method });
        assert.equal(res.status, 403, method);
        if (method === "GET") assert.equal((await res.json()).error.type, "permission_error");
        else await res.body?.cancel();
      }
      assert.deepEqual(
        await bucketState(swift, "videos"),
        [
          `pv/videos/${fal.id}`,
          `pv/videos/${local.id}`,
        ].sort(),
      );
      assert.ok((await verifyLedger(server.services.kv, org.orgId)).ok);
    } finally {
      await server.close();
    }

    // Wrong credentials: the generation fails with a clear log, is refunded, nothing is stored.
    const wrong = await startTestServer(
      {
        ...s3Env(swift, "videos"),
        S3_SECRET_ACCESS_KEY: "not-the-secret",
        S3_PREFIX: "wrong",
      },
      {},
      { background: true },
    );
    try {
      const org = await fundedOrg(wrong.services, 500);
      const g = await generate(wrong, org.key, {
        model: "local/preview",
        prompt: "a lighthouse at dusk",
        duration: 1,
        resolution: "360p",
      });
      assert.equal(g.status, "failed");
      assert.match(g.error_message, /could not be stored/);
      const usage = await call(wrong.url, "GET", "/v1/usage", { key: org.key });
      assert.equal(usage.body.credit_balance, 500, "refunded");
      assert.ok((await verifyLedger(wrong.services.kv, org.orgId)).ok);
      assert.ok(
        wrong.logs.some((l) => /SignatureDoesNotMatch.*S3_SECRET_ACCESS_KEY/.test(String(l.error))),
        "the log names the fix",
      );
      assert.ok(!(await bucketState(swift, "videos")).some((k) => k.startsWith("wrong")));
    } finally {
      await wrong.close();
    }
  } finally {
    await swift.close();
    await Deno.remove(dir, { recursive: true });
  }
});
