import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { freePort } from "../support/app_process.ts";

const readyz = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json() };
};

Deno.test("/readyz: 200 while KV and the video store answer", async () => {
  const server = await startTestServer();
  try {
    const r = await readyz(server.url);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: "ok", checks: { kv: "ok", video_store: "ok" } });
  } finally {
    await server.close();
  }
});

/**
 * A KV Connect server that hands out a data endpoint nobody listens on any more: the handle
 * opens (as the app's did at start-up) and then every read finds the KV unreachable.
 */
async function unreachableKv(): Promise<{ kv: Deno.Kv; close(): Promise<void> }> {
  const gone = freePort();
  const metadata = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json({
        version: 3,
        databaseId: "00000000-0000-4000-8000-000000000000",
        endpoints: [{ url: `http://127.0.0.1:${gone}/v2`, consistency: "strong" }],
        token: "kv-connect-test-token",
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      }),
  );
  const previous = Deno.env.get("DENO_KV_ACCESS_TOKEN");
  Deno.env.set("DENO_KV_ACCESS_TOKEN", "kv-connect-test-token");
  try {
    const kv = await Deno.openKv(`http://127.0.0.1:${metadata.addr.port}`);
    return { kv, close: () => metadata.shutdown() };
  } finally {
    if (previous === undefined) Deno.env.delete("DENO_KV_ACCESS_TOKEN");
    else Deno.env.set("DENO_KV_ACCESS_TOKEN", previous);
  }
}

Deno.test({
  name: "/readyz: 503 when the KV is unreachable, answered by the timeout",
  // The KV client keeps retrying the abandoned read in the background until the handle closes.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const unreachable = await unreachableKv();
    const server = await startTestServer({}, { kv: unreachable.kv });
    try {
      const started = Date.now();
      const r = await readyz(server.url);
      assert.equal(r.status, 503);
      assert.deepEqual(r.body, {
        status: "unavailable",
        checks: { kv: "timeout", video_store: "ok" },
      });
      // Answered by the timeout, not hung with the KV.
      assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    } finally {
      await server.close();
      await unreachable.close();
    }
  },
});

Deno.test("/readyz: 503 when the S3 video store cannot be reached", async () => {
  const server = await startTestServer({
    STORAGE: "s3",
    S3_ENDPOINT: `http://127.0.0.1:${freePort()}`,
    S3_BUCKET: "videos",
    S3_ACCESS_KEY_ID: "test-access-key",
    S3_SECRET_ACCESS_KEY: "test-secret-key",
    S3_FORCE_PATH_STYLE: "true",
  });
  try {
    const r = await readyz(server.url);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body.checks, { kv: "ok", video_store: "error" });
  } finally {
    await server.close();
  }
});
