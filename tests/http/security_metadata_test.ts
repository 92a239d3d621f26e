import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { getBalance } from "../../lib/db/ledger.ts";
import { call, fundedOrg } from "../support/api.ts";

const ok = { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" };

Deno.test("metadata is limited by its serialized size and characters: 400 param metadata, nothing charged", async () => {
  const server = await startTestServer();
  try {
    const { key, orgId } = await fundedOrg(server.services, 100);
    const keys = (v: string) =>
      Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, v]));
    for (
      const metadata of [
        keys("\u0001".repeat(512)), // 16 × 512 control characters: ~50 KB of JSON escapes
        { note: "line\nbreak" },
        { "k\u0000": "v" },
        { note: "\ud800" }, // a lone surrogate
        keys("x".repeat(300)), // printable but over the serialized size
      ]
    ) {
      const r = await call(server.url, "POST", "/v1/video/generations", {
        key,
        body: { ...ok, metadata },
      });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.param, "metadata");
    }
    assert.equal(await getBalance(server.services.kv, orgId), 100);
    const fine = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: { ...ok, metadata: { note: "café ☕", order: "1234" } },
    });
    assert.equal(fine.status, 200);
  } finally {
    await server.close();
  }
});
