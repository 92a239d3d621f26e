/**
 * `deno run -A scripts/bench_kv_connect.ts`: the generation API over KV Connect, each row against a
 * bare baseline over the same KV Connect server (tests/support/kv_connect.ts, a SQLite KV behind
 * it) in the same run, with the KV round trips each request cost (the server's reads and writes
 * while the row ran, per request: background work of the instances included).
 *
 * - poll:   GET /v1/video/generations/{id} (a pending fal generation) vs a bare Deno.serve doing
 *           one KV read per request.
 * - submit: POST /v1/video/generations (one funded org) vs a bare Deno.serve doing one checked KV
 *           write per request; once with one instance, once with three (requests round-robin).
 *
 * BENCH_SECONDS (default 10) per row, BENCH_CONNECTIONS (default 50). Kept apart from
 * scripts/bench.ts (issue 26's) so that `deno task bench` can add these rows when it wants them.
 */
import { createOrg } from "../lib/db/orgs.ts";
import { createApiKey } from "../lib/db/apikeys.ts";
import { creditOrg } from "../lib/db/ledger.ts";
import { startFalStub } from "../tests/support/fal_stub.ts";
import { freePort } from "../tests/support/app_process.ts";
import { type KvConnectServer, startKvConnect } from "../tests/support/kv_connect.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const CONNECTIONS = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 50);
const ROOT = new URL("..", import.meta.url).pathname;

export interface KvConnectRow {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The errors by HTTP status ("fetch" for a failed request). */
  errorStatuses: Record<string, number>;
  /** KV Connect requests (reads and writes) per HTTP request while the row ran. */
  roundTrips: number;
}

/** Baseline server (a subprocess of this file): one KV read, or one checked write, a request. */
async function serveBaseline(kind: string, port: number) {
  const kv = await Deno.openKv(Deno.env.get("DENO_KV_PATH")!);
  await kv.set(["bench", "doc"], { id: "gen_x", status: "completed", note: "x".repeat(200) });
  let n = 0;
  Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, async () => {
    if (kind === "read") return Response.json((await kv.get(["bench", "doc"])).value);
    const id = `${Date.now()}-${n++}`;
    const res = await kv.atomic().check({ key: ["bench", "w", id], versionstamp: null })
      .set(["bench", "w", id], { id, created_at: Date.now() }).commit();
    return Response.json({ ok: res.ok, id });
  });
}

/** `CONNECTIONS` loops sending `request()` for `SECONDS`; latencies and non-2xx answers. */
async function load(request: (i: number) => Promise<Response>) {
  const latencies: number[] = [];
  let errors = 0;
  const errorStatuses: Record<string, number> = {};
  const failed = (status: string) => {
    errors++;
    errorStatuses[status] = (errorStatuses[status] ?? 0) + 1;
  };
  let i = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        const res = await request(i++);
        await res.body?.cancel();
        if (!res.ok) failed(String(res.status));
      } catch {
        failed("fetch");
      }
      latencies.push(performance.now() - t);
    }
  }));
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    n: latencies.length,
    rps: latencies.length / SECONDS,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    errorStatuses,
  };
}

async function row(
  name: string,
  kvServer: KvConnectServer,
  request: (i: number) => Promise<Response>,
): Promise<KvConnectRow> {
  const before = kvServer.stats.reads + kvServer.stats.writes + kvServer.stats.checkFailures;
  const r = await load(request);
  const after = kvServer.stats.reads + kvServer.stats.writes + kvServer.stats.checkFailures;
  return {
    name,
    rps: r.rps,
    p50Ms: r.p50,
    p99Ms: r.p99,
    errors: r.errors,
    errorStatuses: r.errorStatuses,
    roundTrips: (after - before) / Math.max(1, r.n),
  };
}

function spawn(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/tmp", ...env },
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return child;
}

async function waitUp(url: string) {
  for (const deadline = Date.now() + 60_000;;) {
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Runs every row; the KV Connect server, instances and baselines live for this call only. */
export async function benchKvConnect(): Promise<KvConnectRow[]> {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-bench-kvc-" });
  const kvServer = await startKvConnect({ path: `${dir}/kv.sqlite` });
  const kvEnv = { DENO_KV_PATH: kvServer.url, DENO_KV_ACCESS_TOKEN: kvServer.token };
  const stub = startFalStub();
  const children: Deno.ChildProcess[] = [];
  try {
    Deno.env.set("DENO_KV_ACCESS_TOKEN", kvServer.token);
    const kv = await Deno.openKv(kvServer.url);
    const org = await createOrg(kv, { name: "Bench" });
    const { key } = await createApiKey(kv, org.id, { name: "bench" });
    await creditOrg(kv, org.id, 100_000_000_000, { kind: "topup", reason: "benchmark" });
    kv.close();

    const instance = async () => {
      const port = freePort();
      children.push(spawn(["run", "-A", "main.ts"], {
        ...kvEnv,
        PORT: String(port),
        DATA_DIR: `${dir}/data`,
        APP_ENV: "development",
        RATE_LIMIT_PER_MINUTE: "1000000000",
        FAL_KEY: "bench-key",
        FAL_QUEUE_URL: stub.url,
      }));
      const url = `http://127.0.0.1:${port}`;
      await waitUp(`${url}/healthz`);
      return url;
    };
    const baseline = async (kind: string) => {
      const port = freePort();
      const self = new URL(import.meta.url).pathname;
      children.push(spawn(["run", "-A", self, "baseline", kind, String(port)], kvEnv));
      const url = `http://127.0.0.1:${port}/`;
      await waitUp(url);
      return url;
    };
    const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    const body = JSON.stringify({
      model: "alibaba/wan-2.5",
      prompt: "a lighthouse at dusk, waves crashing",
      duration: 5,
      resolution: "720p",
    });
    const submit = (url: string) =>
      fetch(`${url}/v1/video/generations`, { method: "POST", headers, body });

    const app = await instance();
    const created = await (await submit(app)).json();
    if (!created.id) throw new Error(`could not create a generation: ${JSON.stringify(created)}`);
    const [readUrl, writeUrl] = [await baseline("read"), await baseline("write")];

    console.error(`measuring over KV Connect, ${SECONDS} s each…`);
    const rows = [
      await row("baseline: Deno.serve + 1 KV read", kvServer, () => fetch(readUrl)),
      await row(
        "poll GET /v1/video/generations/{id}",
        kvServer,
        () => fetch(`${app}/v1/video/generations/${created.id}`, { headers }),
      ),
      await row("baseline: Deno.serve + 1 checked KV write", kvServer, () => fetch(writeUrl)),
      await row("submit POST /v1/video/generations", kvServer, () => submit(app)),
    ];
    const apps = [app, await instance(), await instance()];
    rows.push(
      await row(
        "submit, three instances (round-robin)",
        kvServer,
        (i) => submit(apps[i % 3]),
      ),
    );
    if (kvServer.refused.length) throw new Error(`KV server refused: ${kvServer.refused[0]}`);
    return rows;
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
      await c.status;
    }
    await stub.close();
    await kvServer.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The rows as a Markdown table, each app row against its baseline. */
export function kvConnectMarkdown(rows: KvConnectRow[]): string {
  const [readBase, poll, writeBase, submit, submit3] = rows;
  const pct = (a: KvConnectRow, b: KvConnectRow) => `${(a.rps / b.rps * 100).toFixed(0)}%`;
  const ratio = new Map([[poll, pct(poll, readBase)], [submit, pct(submit, writeBase)], [
    submit3,
    pct(submit3, writeBase),
  ]]);
  const lines = [
    "## Over KV Connect",
    "",
    `Each row ${SECONDS} s, ${CONNECTIONS} connections, against tests/support/kv_connect.ts on ` +
    "loopback (a SQLite KV behind it). Round trips: KV Connect requests per HTTP request.",
    "",
    "| path | req/s | of baseline | p50 ms | p99 ms | KV round trips | errors |",
    "| ---- | ----: | ----------: | -----: | -----: | -------------: | -----: |",
    ...rows.map((r) =>
      `| ${r.name} | ${r.rps.toFixed(0)} | ${ratio.get(r) ?? ""} | ${r.p50Ms.toFixed(1)} | ${
        r.p99Ms.toFixed(1)
      } | ${r.roundTrips.toFixed(2)} | ${r.errors}${
        r.errors
          ? ` (${Object.entries(r.errorStatuses).map(([s, n]) => `${n}× ${s}`).join(", ")})`
          : ""
      } |`
    ),
    "",
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  if (Deno.args[0] === "baseline") await serveBaseline(Deno.args[1], Number(Deno.args[2]));
  else console.log(kvConnectMarkdown(await benchKvConnect()));
}
