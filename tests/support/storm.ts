/**
 * A fault storm against the real server (`deno run main.ts`): generations from several orgs at
 * once against a fal stand-in that adds latency, refuses some submits (500/502/503/429), fails or
 * hangs some polls, fails some jobs and cuts some downloads; the server is SIGKILLed once
 * mid-flight and restarted. Used by tests/http/storm_test.ts (assertions) and
 * scripts/bench_faults.ts (figures).
 */
import { MAX_SUBMIT_RETRIES } from "../../lib/providers/faults.ts";
import { type FalFaults, startFalStandin } from "./fal_standin.ts";
import {
  ADMIN_TOKEN,
  adminOrg,
  type AppProcess,
  killApp,
  randomPort,
  startApp,
  stopApp,
} from "./app_process.ts";

export interface StormOptions {
  generations: number;
  orgs: number;
  /** Submissions in flight at once. */
  concurrency: number;
  /** Kill the server (SIGKILL) after this share of the submissions, then restart it. */
  killAt?: number;
  /** Give up waiting for terminal states this long after the last submit. */
  drainLimitMs: number;
  seed?: number;
}

export interface StormResult {
  total: number;
  completed: number;
  failed: number;
  /** Still pending/processing when the drain limit ran out. */
  stuck: string[];
  /** Last submit → all terminal (or the limit). */
  drainMs: number;
  /** Per generation, its own submit → terminal (observed), in ms. */
  latency: { p50: number; p90: number; p99: number };
  /** Transient faults the stand-in injected (submit refusals, poll faults, cut downloads). */
  injected: { submit: number; poll: number; download: number; failedJobs: number };
  /**
   * Generations that failed although no job of theirs failed upstream and their submit retries
   * were not all spent on faults (transient faults won where they should not).
   */
  failedByTransientFaults: number;
  /** Their error messages, to tell which fault won. */
  transientFailures: string[];
  /** Generations whose every submit retry met a fault (may fail: one route, retries spent). */
  retriesExhausted: number;
  /** Per org: expected balance (credit − settled costs) vs the API's balance. */
  balances: { expected: number; actual: number }[];
  ledgerOk: boolean;
  /** Upstream jobs started beyond one per generation (duplicates after the crash). */
  extraUpstreamJobs: number;
  /** What GET /v1/models/{slug} metrics.routes counts for the route: possible duplicates. */
  interruptedSubmits: number;
  duplicateJobs: number;
}

/** A small seeded PRNG (mulberry32), so a storm's faults are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CREDIT = 1_000_000;

export async function runStorm(opts: StormOptions): Promise<StormResult> {
  const rand = seeded(opts.seed ?? 17);
  const injected = { submit: 0, poll: 0, download: 0, failedJobs: 0 };
  const failedPrompts = new Set<string>();
  const submitStreak = new Map<string, number>();
  const retriesExhausted = new Set<string>();
  const faults: FalFaults = {
    latencyMs: () => rand() * 20,
    submit: (_n, prompt) => {
      const r = rand();
      const f = r < 0.06
        ? { status: 503 }
        : r < 0.09
        ? { status: 500 }
        : r < 0.11
        ? { status: 502 }
        : r < 0.14
        ? { status: 429, headers: { "retry-after": "1" } }
        : null;
      if (f) injected.submit++;
      // A route's submit is retried MAX_SUBMIT_RETRIES times, then the next route takes over:
      // with one route, that many faults in a row fail the generation (docs/faults.md).
      const streak = f ? (submitStreak.get(prompt) ?? 0) + 1 : 0;
      submitStreak.set(prompt, streak);
      if (streak > MAX_SUBMIT_RETRIES) retriesExhausted.add(prompt);
      return f;
    },
    status: () => {
      const r = rand();
      const f = r < 0.05 ? { status: 500 } : r < 0.07 ? "hang" as const : null;
      if (f) injected.poll++;
      return f;
    },
    download: () => {
      const f = rand() < 0.05 ? "truncate" as const : null;
      if (f) injected.download++;
      return f;
    },
    job: (_n, prompt) => {
      const error = rand() < 0.03 ? "injected job failure" : undefined;
      if (error) {
        injected.failedJobs++;
        failedPrompts.add(prompt);
      }
      return { runMs: rand() * 1500, error };
    },
  };
  await using fal = await startFalStandin(faults);
  const dir = await Deno.makeTempDir({ prefix: "pv-storm-" });
  const port = randomPort();
  const env = {
    ...fal.env,
    PROVIDER_CONNECT_TIMEOUT_MS: "1000",
    PROVIDER_TIMEOUT_MS: "3000",
    WORKER_LEASE_MS: "5000",
  };
  let app: AppProcess | undefined = await startApp(dir, port, env);
  try {
    const orgs: Awaited<ReturnType<typeof adminOrg>>[] = [];
    for (let i = 0; i < opts.orgs; i++) orgs.push(await adminOrg(app.url, CREDIT, `Storm ${i}`));

    // Submit `concurrency` at a time: a first part, the crash and restart, then the rest.
    const gens: { id: string; org: number; prompt: string; submittedAt: number }[] = [];
    const submitOne = async (n: number) => {
      const org = n % orgs.length;
      const prompt = `storm ${n}`;
      const res = await fetch(`${app!.url}/v1/video/generations`, {
        method: "POST",
        headers: orgs[org].api,
        body: JSON.stringify({ model: "alibaba/wan-2.5", prompt, duration: 5, resolution: "720p" }),
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`submit ${n}: ${res.status} ${JSON.stringify(body)}`);
      gens.push({ id: body.id, org, prompt, submittedAt: Date.now() });
    };
    const submitRange = async (from: number, to: number) => {
      let next = from;
      const worker = async () => {
        while (next < to) await submitOne(next++);
      };
      await Promise.all(Array.from({ length: opts.concurrency }, worker));
    };
    const killAfter = Math.floor(opts.generations * (opts.killAt ?? 1));
    await submitRange(0, killAfter);
    if (killAfter < opts.generations) {
      // Let the first part get under way (submits, polls, downloads in flight), then crash.
      await new Promise((r) => setTimeout(r, 6_000));
      await killApp(app);
      app = await startApp(dir, port, env);
      await submitRange(killAfter, opts.generations);
    }
    const lastSubmit = Date.now();

    // Drain: list each org's generations until none is pending or processing.
    const terminalAt = new Map<
      string,
      { at: number; status: string; cost: number; error: string | null }
    >();
    const limit = lastSubmit + opts.drainLimitMs;
    while (Date.now() < limit && terminalAt.size < gens.length) {
      for (const org of orgs) {
        let cursor: string | null = null;
        do {
          const q: string = `limit=100${cursor ? `&cursor=${cursor}` : ""}`;
          const page = await (await fetch(`${app.url}/v1/video/generations?${q}`, {
            headers: org.api,
          })).json();
          for (const g of page.data) {
            if (terminalAt.has(g.id) || g.status === "pending" || g.status === "processing") {
              continue;
            }
            terminalAt.set(g.id, {
              at: Date.now(),
              status: g.status,
              cost: g.cost_cents ?? 0,
              error: g.error_message ?? null,
            });
          }
          cursor = page.next_cursor;
        } while (cursor);
      }
      if (terminalAt.size < gens.length) await new Promise((r) => setTimeout(r, 500));
    }
    const drainMs = Math.max(...[...terminalAt.values()].map((t) => t.at), lastSubmit) -
      lastSubmit;

    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const balances = [];
    for (const [i, org] of orgs.entries()) {
      const spent = gens.filter((g) => g.org === i)
        .reduce((sum, g) => sum + (terminalAt.get(g.id)?.cost ?? 0), 0);
      const usage = await (await fetch(`${app.url}/v1/usage`, { headers: org.api })).json();
      balances.push({ expected: CREDIT - spent, actual: usage.credit_balance });
    }
    const verify = await (await fetch(`${app.url}/admin/v1/ledger/verify`, { headers: admin }))
      .json();
    const model = await (await fetch(`${app.url}/v1/models/alibaba%2Fwan-2.5`, {
      headers: orgs[0].api,
    })).json();
    const route = model.metrics.routes[0];

    const latencies = gens.flatMap((g) => {
      const t = terminalAt.get(g.id);
      return t ? [t.at - g.submittedAt] : [];
    }).sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies.length
        ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
        : 0;
    const statuses = [...terminalAt.values()].map((t) => t.status);
    const transientlyFailed = gens.filter((g) =>
      terminalAt.get(g.id)?.status === "failed" && !failedPrompts.has(g.prompt) &&
      !retriesExhausted.has(g.prompt)
    );
    const upstream = new Map<string, number>();
    for (const j of fal.jobs) upstream.set(j.prompt, (upstream.get(j.prompt) ?? 0) + 1);
    return {
      total: gens.length,
      completed: statuses.filter((s) => s === "completed").length,
      failed: statuses.filter((s) => s === "failed").length,
      stuck: gens.filter((g) => !terminalAt.has(g.id)).map((g) => g.id),
      drainMs,
      latency: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99) },
      injected,
      failedByTransientFaults: transientlyFailed.length,
      retriesExhausted: retriesExhausted.size,
      transientFailures: transientlyFailed.map((g) => terminalAt.get(g.id)?.error ?? "?"),
      balances,
      ledgerOk: verify.ok === true,
      extraUpstreamJobs: [...upstream.values()].reduce((s, n) => s + n - 1, 0),
      interruptedSubmits: route.interrupted_submits,
      duplicateJobs: route.duplicate_jobs,
    };
  } finally {
    await stopApp(app);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
