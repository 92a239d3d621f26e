/**
 * The real server as a child process (`deno run main.ts`) on a KV file in `dir`, for tests that
 * kill it (SIGKILL, no shutdown) and start it again as an operator would.
 */
import assert from "node:assert/strict";
import { notInUnitLane } from "./lane.ts";

export const ADMIN_TOKEN = "admin-token-0123456789abcdef";

export interface AppProcess {
  url: string;
  child: Deno.ChildProcess;
}

/** Starts main.ts on `port` with the test environment plus `env`; resolves once /healthz answers. */
export async function startApp(
  dir: string,
  port: number,
  env: Record<string, string> = {},
): Promise<AppProcess> {
  const app = spawnApp(dir, port, env);
  await waitUp(app);
  return app;
}

/**
 * Spawns main.ts without waiting for it; `output` "piped" hands its stdout and stderr to the
 * caller (who must read or cancel them).
 */
export function spawnApp(
  dir: string,
  port: number,
  env: Record<string, string> = {},
  output: "inherit" | "piped" = "inherit",
): AppProcess {
  notInUnitLane("a second app process");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
    env: {
      PORT: String(port),
      DATA_DIR: dir,
      DENO_KV_PATH: `${dir}/kv.sqlite`,
      APP_ENV: "test",
      ADMIN_TOKEN,
      RATE_LIMIT_PER_MINUTE: "100000",
      ...env,
    },
    stdout: output === "piped" ? "piped" : "null",
    stderr: output,
  }).spawn();
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Resolves once the app's /healthz answers; fails if it exits first or takes over 60 s. */
export async function waitUp(app: AppProcess) {
  let exited = false;
  app.child.status.then(() => exited = true);
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.ok(!exited, "the server exited during start-up");
    try {
      await (await fetch(app.url + "/healthz")).body?.cancel();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** SIGKILL: no shutdown, jobs in flight, leases held. */
export async function killApp(app: AppProcess) {
  app.child.kill("SIGKILL");
  await app.child.status;
}

/** SIGTERM if still running; for finally blocks. */
export async function stopApp(app: AppProcess | undefined) {
  if (!app) return;
  try {
    app.child.kill("SIGTERM");
  } catch { /* already gone */ }
  await app.child.status;
}

/** A loopback port free right now (the OS picks it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export function randomPort() {
  return 20000 + Math.floor(Math.random() * 20000);
}

/** POSTs JSON and asserts 200; returns the body. */
export async function postOk(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Record<string, unknown> & { id: string }> {
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

/** An org with `cents` of credit and an API key, made through the admin API. */
export async function adminOrg(url: string, cents: number, name = "Fault test") {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
  const org = await postOk(`${url}/admin/v1/orgs`, { name }, admin);
  const { key } = await postOk(`${url}/admin/v1/orgs/${org.id}/keys`, { name: "k" }, admin);
  await postOk(
    `${url}/admin/v1/orgs/${org.id}/credits`,
    { amount_cents: cents, reason: "test" },
    admin,
  );
  return {
    orgId: org.id,
    api: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  };
}
