/**
 * Benchmark rows of the job runner (lib/jobs.ts), each against a baseline measured in the same run:
 *
 * - throughput: no-op jobs/s through the runner (enqueue, claim, run, finish) vs bare checked KV
 *   atomic writes/s, both at 4 at a time on one SQLite file;
 * - pickup latency p50/p99, enqueue committed → handler started, on an idle runner and on one
 *   busy with a stream of other jobs;
 * - submit throughput with three instances on one org vs one instance (`deno run -A main.ts`
 *   processes on one KV file, 50 concurrent callers, fal.ai stand-in).
 *
 * Run alone: `deno run -A scripts/bench_jobs.ts` (BENCH_SECONDS, default 10, per submit run).
 */
import { createKvJobQueue, enqueueInAtomic, type JobQueue } from "../lib/jobs.ts";
import { openKv } from "../lib/db/kv.ts";
import { createOrg } from "../lib/db/orgs.ts";
import { createApiKey } from "../lib/db/apikeys.ts";
import { creditOrg } from "../lib/db/ledger.ts";
import { startFalStub } from "../tests/support/fal_stub.ts";
import { freePort, waitUp } from "../tests/support/app_process.ts";

export interface BenchRow {
  measurement: string;
  value: string;
  baseline: string;
  ratio: string;
}

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const ROOT = new URL("..", import.meta.url).pathname;
const quiet = () => {};

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function withKv<T>(fn: (kv: Deno.Kv) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "pv-bench-jobs-" });
  const kv = await openKv(`${dir}/kv.sqlite`);
  try {
    return await fn(kv);
  } finally {
    try {
      kv.close();
    } catch { /* the measurement closed it to stop its runner */ }
    await Deno.remove(dir, { recursive: true });
  }
}

/** Bare checked atomic writes per second, 4 writers at once. */
function bareWritesPerSecond(count: number): Promise<number> {
  return withKv(async (kv) => {
    let next = 0;
    const t0 = performance.now();
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (next < count) {
        const key = ["bench", next++];
        await kv.atomic().check({ key, versionstamp: null }).set(key, { at: Date.now() }).commit();
      }
    }));
    return count / ((performance.now() - t0) / 1000);
  });
}

/** `kv` counting its round trips by method (a list counts once per page it fetches). */
function countingKv(kv: Deno.Kv, calls: Record<string, number>): Deno.Kv {
  const count = (name: string) => calls[name] = (calls[name] ?? 0) + 1;
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => (count("commit"), commit());
          return op;
        };
      }
      return (...args: unknown[]) => {
        if (prop !== "watch") count(String(prop));
        return value.apply(target, args);
      };
    },
  });
}

/**
 * No-op jobs per second through the runner: enqueued in commits of 10, 4 running at once; and
 * the KV round trips the runner made per job, by kind (enqueue commits not included).
 */
function runnerJobsPerSecond(
  count: number,
): Promise<{ rate: number; perJob: Record<string, number> }> {
  return withKv(async (raw) => {
    const calls: Record<string, number> = {};
    const kv = countingKv(raw, calls);
    const queue = createKvJobQueue(kv, quiet);
    let done = 0;
    const all = Promise.withResolvers<void>();
    const listening = queue.listen({
      "bench.noop": () => {
        if (++done === count) all.resolve();
        return Promise.resolve();
      },
    });
    const t0 = performance.now();
    for (let i = 0; i < count; i += 10) {
      const a = raw.atomic();
      for (let j = i; j < Math.min(count, i + 10); j++) {
        enqueueInAtomic(a, { type: "bench.noop", id: `n${j}`, org: `org_${j % 3}` });
      }
      await a.commit();
    }
    await all.promise;
    const rate = count / ((performance.now() - t0) / 1000);
    const perJob = Object.fromEntries(Object.entries(calls).map(([k, n]) => [k, n / count]));
    kv.close();
    await listening;
    return { rate, perJob };
  });
}

/** Enqueue-to-start latencies of `samples` jobs, optionally while a stream of no-ops runs. */
function pickupLatencies(samples: number, busy: boolean): Promise<number[]> {
  return withKv(async (kv) => {
    const queue: JobQueue = createKvJobQueue(kv, quiet);
    const enqueuedAt = new Map<string, number>();
    const latencies: number[] = [];
    let stop = false;
    const listening = queue.listen({
      "bench.probe": (job) => {
        latencies.push(performance.now() - enqueuedAt.get(job.id)!);
        return Promise.resolve();
      },
      "bench.noop": () => new Promise((r) => setTimeout(r, 5)),
    });
    const load = busy
      ? (async () => {
        for (let i = 0; !stop; i++) {
          await queue.enqueue({ type: "bench.noop", id: `n${i}`, org: "org_busy" });
          await new Promise((r) => setTimeout(r, 2));
        }
      })()
      : Promise.resolve();
    for (let i = 0; i < samples; i++) {
      enqueuedAt.set(`p${i}`, performance.now());
      await queue.enqueue({ type: "bench.probe", id: `p${i}`, org: "org_probe" });
      const end = Date.now() + 5_000;
      while (latencies.length <= i && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 20));
    }
    stop = true;
    await load;
    kv.close();
    await listening;
    return latencies;
  });
}

/** Accepted submissions per second from 50 callers spread over `instances` app processes. */
async function submitsPerSecond(
  instances: number,
): Promise<{ rps: number; errors: number; byKind: Record<string, number> }> {
  const dir = await Deno.makeTempDir({ prefix: "pv-bench-multi-" });
  const kvPath = `${dir}/kv.sqlite`;
  const kv = await openKv(kvPath);
  const org = await createOrg(kv, { name: "Bench" });
  const { key } = await createApiKey(kv, org.id, { name: "bench" });
  await creditOrg(kv, org.id, 100_000_000_000, { kind: "topup", reason: "benchmark" });
  kv.close();
  const stub = startFalStub();
  const apps = Array.from({ length: instances }, () => {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/main.ts`],
      env: {
        PORT: String(port),
        DENO_KV_PATH: kvPath,
        DATA_DIR: `${dir}/data`,
        APP_ENV: "development",
        RATE_LIMIT_PER_MINUTE: "1000000000",
        FAL_KEY: "bench-key",
        FAL_QUEUE_URL: stub.url,
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    return { url: `http://127.0.0.1:${port}`, child };
  });
  try {
    for (const app of apps) await waitUp(app);
    const body = JSON.stringify({
      model: "alibaba/wan-2.5",
      prompt: "a lighthouse at dusk, waves crashing",
      duration: 5,
      resolution: "720p",
    });
    const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    let ok = 0, errors = 0;
    const byKind: Record<string, number> = {};
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: 50 }, async (_, c) => {
      while (Date.now() < end) {
        const res = await fetch(`${apps[c % instances].url}/v1/video/generations`, {
          method: "POST",
          headers,
          body,
        });
        if (res.status === 200) {
          ok++;
          await res.body?.cancel();
        } else {
          errors++;
          const code = (await res.json().catch(() => null))?.error?.code ?? "no code";
          const kind = `${res.status} ${code}`;
          byKind[kind] = (byKind[kind] ?? 0) + 1;
        }
      }
    }));
    return { rps: ok / SECONDS, errors, byKind };
  } finally {
    for (const app of apps) {
      app.child.kill("SIGKILL");
      await app.child.status;
    }
    await stub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

export async function benchJobs(): Promise<BenchRow[]> {
  const count = 1_000;
  const bare = await bareWritesPerSecond(count);
  const { rate: jobs, perJob } = await runnerJobsPerSecond(count);
  const idle = await pickupLatencies(100, false);
  const busy = await pickupLatencies(100, true);
  const one = await submitsPerSecond(1);
  const three = await submitsPerSecond(3);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return [
    {
      measurement: "no-op jobs/s through the runner (4 slots, one SQLite file)",
      value: jobs.toFixed(0),
      baseline: `${bare.toFixed(0)} checked KV writes/s (4 writers)`,
      ratio: pct(jobs / bare),
    },
    {
      measurement: "KV round trips per job in the runner (enqueue not counted)",
      value: Object.entries(perJob).map(([k, n]) => `${k} ${n.toFixed(2)}`).join(", "),
      baseline: "",
      ratio: "",
    },
    {
      measurement: "job pickup p50 / p99, idle runner (enqueue called → handler start)",
      value: `${ms(percentile(idle, 0.5))} / ${ms(percentile(idle, 0.99))}`,
      baseline: "",
      ratio: "",
    },
    {
      measurement: "job pickup p50 / p99, runner busy with a stream of other jobs",
      value: `${ms(percentile(busy, 0.5))} / ${ms(percentile(busy, 0.99))}`,
      baseline: `idle p50 ${ms(percentile(idle, 0.5))}`,
      ratio: "",
    },
    {
      measurement: "submit/s, three instances on one KV file, one org (50 callers)",
      value: `${three.rps.toFixed(0)} (${three.errors} errors)`,
      baseline: `${one.rps.toFixed(0)}/s one instance (${one.errors} errors)`,
      ratio: pct(three.rps / one.rps),
    },
  ];
}

export function jobRowsMarkdown(rows: BenchRow[]): string {
  return [
    "## Job runner and several instances (scripts/bench_jobs.ts)",
    "",
    "| measurement | value | baseline (same run) | vs baseline |",
    "|---|---:|---:|---:|",
    ...rows.map((r) => `| ${r.measurement} | ${r.value} | ${r.baseline} | ${r.ratio} |`),
    "",
  ].join("\n");
}

if (import.meta.main) {
  // BENCH_JOB_ROWS=throughput (or instances): that row alone, 3 times, with its baseline.
  const only = Deno.env.get("BENCH_JOB_ROWS");
  if (only === "throughput") {
    for (let i = 0; i < 3; i++) {
      const bare = await bareWritesPerSecond(1000);
      const { rate, perJob } = await runnerJobsPerSecond(1000);
      console.log(
        `bare ${bare.toFixed(0)}/s, runner ${rate.toFixed(0)}/s (${
          (rate / bare * 100).toFixed(0)
        }%), per job: ${JSON.stringify(perJob)}`,
      );
    }
  } else if (only === "instances") {
    const one = await submitsPerSecond(1);
    const three = await submitsPerSecond(3);
    console.log(JSON.stringify({ one, three, ratio: three.rps / one.rps }));
  } else console.log(jobRowsMarkdown(await benchJobs()));
}
