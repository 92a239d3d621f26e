/**
 * A crash during a video download: the server is SIGKILLed while it streams a finished video
 * from the provider, then started again on the same KV file. The download's lease lapses
 * (nothing renews it) and the takeover job downloads again: the generation completes within a
 * minute of the restart, charged once.
 */
import assert from "node:assert/strict";
import { startFalStandin } from "../support/fal_standin.ts";
import {
  ADMIN_TOKEN,
  adminOrg,
  type AppProcess,
  killApp,
  postOk,
  randomPort,
  startApp,
  stopApp,
} from "../support/app_process.ts";

Deno.test("a download cut by SIGKILL completes within a minute of the restart", async () => {
  // The first download hangs mid-flight (the crash happens during it); later ones succeed.
  await using fal = await startFalStandin({ download: (n) => n === 0 ? "hang" : null });
  const dir = await Deno.makeTempDir({ prefix: "pv-restart-dl-" });
  const port = randomPort();
  let app: AppProcess | undefined = await startApp(dir, port, fal.env);
  try {
    const { api } = await adminOrg(app.url, 10_000);
    const downloading = fal.downloadStarted();
    const g = await postOk(`${app.url}/v1/video/generations`, {
      model: "alibaba/wan-2.5",
      prompt: "a download cut short",
      duration: 5,
      resolution: "720p",
    }, api);
    await downloading;
    await killApp(app);
    app = undefined;

    app = await startApp(dir, port, fal.env);
    const restarted = Date.now();
    let status = "";
    let body: Record<string, unknown> = {};
    while (Date.now() - restarted < 60_000) {
      const res = await fetch(`${app.url}/v1/video/generations/${g.id}`, { headers: api });
      body = await res.json();
      status = String(body.status);
      if (status !== "pending" && status !== "processing") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const took = Date.now() - restarted;
    assert.equal(status, "completed", JSON.stringify(body));
    assert.ok(took < 60_000, `completed ${took} ms after the restart`);
    assert.equal(fal.counts.download, 2); // the cut download, then the takeover's
    assert.equal(fal.jobs.length, 1); // one upstream job

    const usage = await (await fetch(`${app.url}/v1/usage`, { headers: api })).json();
    assert.equal(usage.credit_balance, 10_000 - Number(body.cost_cents));
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const verify = await (await fetch(`${app.url}/admin/v1/ledger/verify`, { headers: admin }))
      .json();
    assert.equal(verify.ok, true, JSON.stringify(verify));
  } finally {
    await stopApp(app);
    await Deno.remove(dir, { recursive: true });
  }
});
