/**
 * Spend controls' cost on the charge path (issue 14): in-process submissions through the group
 * commit, 50 concurrent callers on one org and a KV file, without and with every control on (a
 * limited key, a monthly budget, a low-balance threshold). Runs alone with
 * `deno run -A scripts/bench_spend.ts`; `deno task bench` appends its section to BENCHMARKS.md.
 */
import { createApiKey } from "../lib/db/apikeys.ts";
import { setSpendSettings } from "../lib/db/spend.ts";
import { createGeneration } from "../lib/generations/service.ts";
import { parseGenerationBody } from "../lib/generations/schema.ts";
import { fundedOrg, scriptedAdapter, testDeps, testModel } from "../tests/support/generations.ts";

const CALLERS = 50;
const PER_CALLER = Number(Deno.env.get("BENCH_SPEND_PER_CALLER") ?? 40);

async function run(controls: boolean): Promise<{ rps: number; n: number }> {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-bench-spend-" });
  const kv = await Deno.openKv(`${dir}/kv.sqlite`);
  try {
    const deps = testDeps(kv, dir, {
      adapters: { fal: scriptedAdapter("fal", {}).adapter },
      models: [testModel("t/one", "fal", 1)],
    });
    const n = CALLERS * PER_CALLER;
    const org = await fundedOrg(kv, 10 * n);
    const key = await createApiKey(kv, org.id, {
      name: "bench",
      limit: controls ? { limit_cents: 2 * n, limit_reset: "daily" } : null,
    });
    if (controls) {
      await setSpendSettings(kv, org.id, {
        monthly_budget_cents: 2 * n,
        low_balance_cents: 9 * n, // crossed once during the run
      }, Date.now());
    }
    const body = parseGenerationBody({ model: "t/one", prompt: "bench" });
    const start = performance.now();
    await Promise.all(Array.from({ length: CALLERS }, async () => {
      for (let i = 0; i < PER_CALLER; i++) {
        await createGeneration(deps, org.id, body, { apiKeyId: key.id });
      }
    }));
    return { rps: n / ((performance.now() - start) / 1000), n };
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The BENCHMARKS.md section: rows of submissions per second without and with the controls. */
export async function benchSpendSection(): Promise<string> {
  const off = await run(false);
  const on = await run(true);
  return `
## Spend controls (scripts/bench_spend.ts)

In-process createGeneration through the group commit, ${CALLERS} concurrent callers, one org, a
KV file, ${off.n} submissions each. The spend reads run beside the balance read in the same
round trip, so their cost shows mostly when limits make the commit write checked counters:

| charge path | submissions/s | vs without |
|---|---:|---:|
| no limits set (the spend reads still run) | ${off.rps.toFixed(0)} | |
| limited key + monthly budget + low-balance alert | ${on.rps.toFixed(0)} | ${
    ((on.rps / off.rps) * 100).toFixed(0)
  }% |
`;
}

if (import.meta.main) console.log(await benchSpendSection());
