/**
 * Crash safety with real processes: the server is killed (SIGKILL, no shutdown) while
 * generations are in flight, then started again on the same KV file. Nothing may be lost:
 * every generation completes, each charged once, and balance == sum(ledger).
 */
import assert from "node:assert/strict";
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

Deno.test("killing the server mid-flight and starting it again loses no generation and no cent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-restart-" });
  const port = randomPort();
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
  let app: AppProcess | undefined;
  try {
    app = await startApp(dir, port);
    const { url } = app;
    const { api } = await adminOrg(url, 1000, "Crash test");
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const g = await postOk(`${url}/v1/video/generations`, {
        model: "local/preview",
        prompt: `crash ${i}`,
        duration: 1,
      }, api);
      ids.push(g.id);
    }
    // No graceful shutdown: queue messages in flight, renders half done.
    await killApp(app);

    app = await startApp(dir, port);
    // Recovery: a claimed local submission after its 20 s claim, anything else by the sweep that
    // runs a grace period (60 s) after start-up.
    const deadline = Date.now() + 120_000;
    const statuses = new Map<string, string>();
    while (Date.now() < deadline) {
      for (const id of ids) {
        const g = await (await fetch(`${url}/v1/video/generations/${id}`, { headers: api })).json();
        statuses.set(id, g.status);
      }
      if ([...statuses.values()].every((s) => s === "completed")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual([...new Set(statuses.values())], ["completed"], JSON.stringify([...statuses]));

    const usage = await (await fetch(`${url}/v1/usage`, { headers: api })).json();
    assert.equal(usage.credit_balance, 1000 - 8 * 1, "each charged once: 1 cent per second");
    const verify = await (await fetch(`${url}/admin/v1/ledger/verify`, { headers: admin })).json();
    assert.equal(verify.ok, true, JSON.stringify(verify));
  } finally {
    await stopApp(app);
    await Deno.remove(dir, { recursive: true });
  }
});
