/**
 * The fault storm in the suite (docs/faults.md): a few hundred generations from three orgs
 * against a fal stand-in with injected faults, the server SIGKILLed once and restarted. Every
 * generation must end within the bound, every balance be exact and the ledger clean; transient
 * faults alone must fail no generation.
 */
import assert from "node:assert/strict";
import { runStorm } from "../support/storm.ts";

Deno.test("storm: 240 generations, provider faults and one SIGKILL: all terminal, money exact", async () => {
  const r = await runStorm({
    generations: 240,
    orgs: 3,
    concurrency: 20,
    killAt: 0.5,
    drainLimitMs: 90_000,
  });
  console.log(JSON.stringify({ ...r, stuck: r.stuck.length }));
  assert.deepEqual(r.stuck, [], "every generation is terminal within 90 s of the last submit");
  assert.equal(r.total, 240);
  for (const b of r.balances) assert.equal(b.actual, b.expected);
  assert.ok(r.ledgerOk, "balance == sum(ledger) for every org");
  assert.ok(r.injected.submit > 0 && r.injected.poll > 0 && r.injected.download > 0);
  // Only a job that failed upstream, or a submit whose every retry met a fault (about 1 in 2,600
  // at these rates; one route, no fallback), may fail the generation: transient faults alone not.
  assert.equal(r.failedByTransientFaults, 0);
  assert.equal(r.completed + r.failed, 240);
  // No provider has idempotency keys: a submit cut by the crash may start a second upstream job,
  // and every such job must show in the route's metrics.
  assert.ok(
    r.extraUpstreamJobs <= r.interruptedSubmits + r.duplicateJobs,
    `${r.extraUpstreamJobs} extra upstream jobs, ${r.interruptedSubmits} counted`,
  );
});
