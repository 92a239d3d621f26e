import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { call, fundedOrg } from "../support/api.ts";

/** Pids of processes whose command line mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    if (cmd.includes(needle)) pids.push(Number(e.name));
  }
  return pids;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

async function until<T>(what: string, f: () => Promise<T | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "cancelling a local generation mid-render stops ffmpeg and leaves no work file",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    try {
      const workDir = `${server.services.config.DATA_DIR}/work/local`;
      const { key, orgId } = await fundedOrg(server.services, 10_000);
      const created = await call(server.url, "POST", "/v1/video/generations", {
        key,
        body: {
          model: "local/preview",
          prompt: "a long render",
          duration: 10,
          resolution: "1080p",
        },
      });
      assert.equal(created.status, 200);
      // ffmpeg is running on this generation's file.
      const pids = await until("ffmpeg to start", async () => {
        const p = await processesMentioning(workDir);
        return p.length ? p : false;
      });
      const cancelled = await call(
        server.url,
        "POST",
        `/v1/video/generations/${created.body.id}/cancel`,
        { key },
      );
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, "cancelled");
      await until(
        "ffmpeg to stop",
        async () => (await processesMentioning(workDir)).length === 0 ? true : false,
        5_000,
      );
      // Killed and reaped: no /proc entry left (a loaded machine may take a moment to reap).
      await until("ffmpeg to be reaped", async () => {
        for (const pid of pids) if (await Deno.stat(`/proc/${pid}`).catch(() => null)) return false;
        return true;
      }, 10_000);
      await until(
        "the work files to go",
        async () => (await filesUnder(workDir)).length === 0 ? true : false,
        5_000,
      );
      const again = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, {
        key,
      });
      assert.equal(again.body.status, "cancelled");
      void orgId;
    } finally {
      await server.close();
    }
  },
});
