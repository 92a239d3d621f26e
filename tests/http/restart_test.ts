/**
 * Crash safety with real processes: the server is killed (SIGKILL, no shutdown) while
 * generations are in flight, then started again on the same KV file. Nothing may be lost:
 * every generation completes, each charged once, and balance == sum(ledger).
 */
import assert from "node:assert/strict";

const ADMIN = "admin-token-0123456789abcdef";

function startServer(dir: string, port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
    env: {
      PORT: String(port),
      DATA_DIR: dir,
      DENO_KV_PATH: `${dir}/kv.sqlite`,
      APP_ENV: "test",
      ADMIN_TOKEN: ADMIN,
      RATE_LIMIT_PER_MINUTE: "100000",
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  return child;
}

async function waitUp(url: string, child: Deno.ChildProcess) {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.ok(!exited, "the server exited during start-up");
    try {
      await (await fetch(url + "/healthz")).body?.cancel();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

Deno.test("killing the server mid-flight and starting it again loses no generation and no cent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-restart-" });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const url = `http://127.0.0.1:${port}`;
  const admin = { Authorization: `Bearer ${ADMIN}`, "Content-Type": "application/json" };
  let child = startServer(dir, port);
  try {
    await waitUp(url, child);
    const post = async (path: string, body: unknown, headers: Record<string, string>) => {
      const res = await fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
      const json = await res.json();
      assert.equal(res.status, 200, JSON.stringify(json));
      return json;
    };
    const org = await post("/admin/v1/orgs", { name: "Crash test" }, admin);
    const { key } = await post(`/admin/v1/orgs/${org.id}/keys`, { name: "k" }, admin);
    await post(`/admin/v1/orgs/${org.id}/credits`, { amount_cents: 1000, reason: "test" }, admin);
    const api = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const g = await post("/v1/video/generations", {
        model: "local/preview",
        prompt: `crash ${i}`,
        duration: 1,
      }, api);
      ids.push(g.id);
    }
    // No graceful shutdown: queue messages in flight, renders half done.
    child.kill("SIGKILL");
    await child.status;

    child = startServer(dir, port);
    await waitUp(url, child);
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
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
