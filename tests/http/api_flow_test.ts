import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { probeVideo } from "../support/video.ts";
import { localProvider } from "../../lib/providers/local.ts";
import { verifyLedger } from "../../lib/db/ledger.ts";
import { allLedger, call, fundedOrg, waitFor } from "../support/api.ts";

Deno.test({
  name: "full flow on the local model: pending -> processing -> completed, video downloads by URL",
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    try {
      const { services } = server;
      // Hold the first poll until the test has seen `processing`, so that state is observed
      // deterministically rather than by racing the 200 ms poll interval.
      let release!: () => void;
      const gate = new Promise<void>((r) => release = r);
      services.generation.adapters.local = {
        ...localProvider,
        poll: async (jobId, deps) => {
          await gate;
          return localProvider.poll(jobId, deps);
        },
      };
      const { orgId, key } = await fundedOrg(services, 500);
      const created = await call(server.url, "POST", "/v1/video/generations", {
        key,
        body: {
          model: "local/preview",
          prompt: "a lighthouse at dusk",
          duration: 2,
          resolution: "360p",
        },
      });
      assert.equal(created.status, 200);
      assert.equal(created.body.status, "pending");
      const id = created.body.id as string;
      const get = () => call(server.url, "GET", `/v1/video/generations/${id}`, { key });

      const first = await get();
      assert.ok(["pending", "processing"].includes(first.body.status), first.body.status);
      await waitFor(
        async () => (await get()).body.status === "processing" || undefined,
        "processing",
      );
      release();
      const done = await waitFor(
        async () => {
          const r = await get();
          assert.ok(!["failed", "cancelled"].includes(r.body.status), JSON.stringify(r.body));
          return r.body.status === "completed" ? r.body : undefined;
        },
        "completed",
        60_000,
      );

      assert.equal(done.model, "local/preview");
      assert.equal(done.cost_cents, 2); // 1 cent/s at 360p × 2 s
      assert.equal(done.error_message, null);
      assert.ok(Number.isInteger(done.latency_ms) && done.latency_ms >= 0);
      assert.ok(done.completed_at >= done.created_at);

      // The signed URL works without an API key (rebased on the test server's port).
      const signed = new URL(done.output_url);
      assert.match(signed.pathname, new RegExp(`^/files/videos/${id}\\.mp4$`));
      const videoUrl = server.url + signed.pathname + signed.search;
      const res = await fetch(videoUrl);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("Content-Type"), "video/mp4");
      const bytes = new Uint8Array(await res.arrayBuffer());
      const file = await Deno.makeTempFile({ suffix: ".mp4" });
      try {
        await Deno.writeFile(file, bytes);
        const probe = await probeVideo(file);
        assert.equal(probe.codec, "h264");
        assert.ok(Math.abs(probe.duration - 2) < 0.2, `duration ${probe.duration}`);
      } finally {
        await Deno.remove(file);
      }

      const ranged = await fetch(videoUrl, { headers: { Range: "bytes=0-99" } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get("Content-Range"), `bytes 0-99/${bytes.length}`);
      assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), bytes.subarray(0, 100));

      // A tampered or missing signature is a 403 in the API's error shape.
      const tampered = new URL(videoUrl);
      tampered.searchParams.set("exp", String(Number(tampered.searchParams.get("exp")) + 1));
      for (const bad of [tampered.href, server.url + signed.pathname]) {
        const r = await fetch(bad);
        assert.equal(r.status, 403);
        assert.equal((await r.json()).error.code, "forbidden");
      }

      // Money: charged exactly cost_cents, and the ledger explains the balance.
      const usage = await call(server.url, "GET", "/v1/usage", { key });
      assert.equal(usage.body.credit_balance, 500 - done.cost_cents);
      assert.equal(usage.body.totals.completed_requests, 1);
      assert.equal(usage.body.totals.total_cost_cents, done.cost_cents);
      const ledger = await allLedger(services, orgId);
      assert.deepEqual(ledger.map((e) => [e.kind, e.amount_cents]), [
        ["charge", -done.cost_cents],
        ["topup", 500],
      ]);
      assert.equal((await verifyLedger(services.kv, orgId)).ok, true);
    } finally {
      await server.close();
    }
  },
});
