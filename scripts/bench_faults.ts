/**
 * The fault storm's figures for BENCHMARKS.md (docs/faults.md): generations from several orgs
 * against a fal stand-in injecting latency, refused submits, failed and hung polls, failed jobs
 * and cut downloads, with one SIGKILL and restart of the server. Run alone with
 * `deno run -A scripts/bench_faults.ts`; `deno task bench` appends its section.
 */
import { runStorm, type StormResult } from "../tests/support/storm.ts";

const GENERATIONS = Number(Deno.env.get("BENCH_STORM_GENERATIONS") ?? 400);

export async function benchFaults(): Promise<StormResult> {
  return await runStorm({
    generations: GENERATIONS,
    orgs: 4,
    concurrency: 50,
    killAt: 0.5,
    drainLimitMs: 180_000,
  });
}

/** The markdown section: drain time, per-generation latency and completion despite faults. */
export function faultsSection(r: StormResult): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const eligible = r.total - r.injected.failedJobs;
  const share = eligible ? (Math.min(r.completed, eligible) / eligible) * 100 : 0;
  const exact = r.balances.every((b) => b.expected === b.actual) && r.ledgerOk;
  return `
## Fault storm (scripts/bench_faults.ts)

${r.total} generations of \`alibaba/wan-2.5\` from ${r.balances.length} orgs (50 submissions in
flight) against a local fal stand-in injecting: ${r.injected.submit} refused submits
(500/502/503/429 with Retry-After), ${r.injected.poll} failed or hung status polls,
${r.injected.download} cut downloads and ${r.injected.failedJobs} failed jobs; the server is
SIGKILLed after half the submissions and restarted (leases 5 s, provider timeouts 1 s/3 s).

| measurement | value |
|---|---:|
| drain: last submit → all terminal | ${s(r.drainMs)} |
| submit → terminal p50 | ${s(r.latency.p50)} |
| submit → terminal p90 | ${s(r.latency.p90)} |
| submit → terminal p99 | ${s(r.latency.p99)} |
| completed despite transient faults (jobs not failed upstream) | ${
    share.toFixed(1)
  }% (${r.completed}/${eligible}) |
| failed by transient faults alone | ${r.failedByTransientFaults} |
| still not terminal | ${r.stuck.length} |
| extra upstream jobs (duplicates) / counted in metrics.routes | ${r.extraUpstreamJobs} / ${
    r.interruptedSubmits + r.duplicateJobs
  } |
| balances exact, ledger clean | ${exact ? "yes" : "NO"} |
`;
}

if (import.meta.main) console.log(faultsSection(await benchFaults()));
