import assert from "node:assert/strict";
import { BudgetExceeded, KeyLimitExceeded } from "../errors.ts";
import { createApiKey, setKeyLimit } from "../db/apikeys.ts";
import { openKv } from "../db/kv.ts";
import { getBalance, listLedger, verifyLedger } from "../db/ledger.ts";
import { getKeyPeriodUsage, getOrgMonthSpent, setSpendSettings } from "../db/spend.ts";
import { generationKey, type GenerationRecord, getGeneration } from "../db/generations.ts";
import { createGeneration } from "../generations/service.ts";
import { completePlan, failPlan, updateGeneration } from "../generations/transitions.ts";
import { parseGenerationBody } from "../generations/schema.ts";
import {
  fundedOrg,
  scriptedAdapter,
  testClock,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import { periodId } from "../db/period.ts";

const PRICE = 7; // cents per generation of t/seven
const N = 6;

function setup(kv: Deno.Kv, clock = testClock()) {
  const deps = {
    ...testDeps(kv, "/nonexistent", {
      adapters: { fal: scriptedAdapter("fal", {}).adapter },
      models: [testModel("t/seven", "fal", PRICE), testModel("t/one", "fal", 1)],
      now: clock.now,
    }),
    // Small batches, so 4N racing submissions go out in many group commits.
    submitBatch: { maxBatch: 5 },
  };
  return { deps, clock };
}

/** `setup`'s deps, an org holding 10,000 cents and a key "ci" with `limit`. */
async function limitedKey(
  kv: Deno.Kv,
  limit: { limit_cents: number; limit_reset: "never" | "daily" | "weekly" | "monthly" },
) {
  const { deps, clock } = setup(kv);
  const org = await fundedOrg(kv, 10_000, clock.now());
  const key = await createApiKey(kv, org.id, { name: "ci", limit });
  return { deps, clock, org, key, ctx: { apiKeyId: key.id } };
}

const body = (model = "t/seven") => parseGenerationBody({ model, prompt: "p" });
const bodyModels = (models: string[]) => parseGenerationBody({ models, prompt: "p" });

function outcomes(results: PromiseSettledResult<unknown>[]) {
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
  return { ok, errors };
}

async function chargesOf(kv: Deno.Kv, orgId: string) {
  return (await listLedger(kv, orgId, { limit: 200 })).data.filter((e) => e.kind === "charge");
}

Deno.test("key limit of exactly N generations: 4N racing submissions, N accepted, the rest 402", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { deps, clock } = setup(kv);
    const org = await fundedOrg(kv, 10_000, clock.now());
    const key = await createApiKey(kv, org.id, {
      name: "ci",
      limit: { limit_cents: N * PRICE, limit_reset: "never" },
    }, { nowMs: clock.now() });
    const other = await createApiKey(kv, org.id, { name: "unlimited" }, { nowMs: clock.now() });
    const results = await Promise.allSettled(
      Array.from({ length: 4 * N }, (_, i) =>
        // An unlimited key's submissions share the batches and are never refused.
        createGeneration(deps, org.id, body(), { apiKeyId: i % 4 === 3 ? other.id : key.id })),
    );
    const limited = results.filter((_, i) => i % 4 !== 3);
    const { ok, errors } = outcomes(limited);
    assert.equal(ok, N);
    assert.equal(errors.length, 3 * N - N);
    for (const e of errors) {
      assert.ok(e instanceof KeyLimitExceeded, String(e));
      assert.equal(e.status, 402);
      assert.equal(e.code, "key_limit_exceeded");
      assert.deepEqual(e.data, { limit_cents: N * PRICE, spent_cents: N * PRICE, resets_at: null });
      assert.match(e.message, new RegExp(`limit is ${N * PRICE} cents and ${N * PRICE} cents`));
    }
    assert.equal(outcomes(results.filter((_, i) => i % 4 === 3)).ok, N);
    const spent = await getKeyPeriodUsage(kv, key.id, "all");
    assert.deepEqual(spent, { spent_cents: N * PRICE, requests: N });
    assert.equal(await getBalance(kv, org.id), 10_000 - 2 * N * PRICE);
    assert.ok((await verifyLedger(kv, org.id)).ok);
    assert.equal((await chargesOf(kv, org.id)).length, 2 * N, "refusals wrote no charge");
  } finally {
    kv.close();
  }
});

Deno.test("a refund gives the allowance back exactly once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { deps, clock, org, key, ctx } = await limitedKey(kv, {
      limit_cents: 2 * PRICE,
      limit_reset: "never",
    });
    const [a] = await Promise.all([
      createGeneration(deps, org.id, body(), ctx),
      createGeneration(deps, org.id, body(), ctx),
    ]);
    await assert.rejects(createGeneration(deps, org.id, body(), ctx), KeyLimitExceeded);
    // The failure refunds; a second failure (a duplicate job, the sweep) changes nothing.
    assert.ok((await updateGeneration(deps, a.id, failPlan("boom", clock.now()))).committed);
    assert.equal(
      (await updateGeneration(deps, a.id, failPlan("again", clock.now()))).committed,
      null,
    );
    assert.equal((await getKeyPeriodUsage(kv, key.id, "all")).spent_cents, PRICE);
    await createGeneration(deps, org.id, body(), ctx); // the given-back allowance
    await assert.rejects(createGeneration(deps, org.id, body(), ctx), KeyLimitExceeded);
    assert.equal((await getKeyPeriodUsage(kv, key.id, "all")).spent_cents, 2 * PRICE);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    kv.close();
  }
});

Deno.test("a refund of a generation charged before the spend counters gives no allowance", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { deps, clock, org, key, ctx } = await limitedKey(kv, {
      limit_cents: PRICE,
      limit_reset: "never",
    });
    const old = await createGeneration(deps, org.id, body(), ctx);
    assert.equal((await getGeneration(kv, org.id, old.id))?.spend_counted, true);
    // Make it one charged before the counters existed (in flight at the deploy): no counters,
    // no stamp.
    for (const prefix of [["key_spend"], ["org_spend"]]) {
      for await (const e of kv.list({ prefix })) await kv.delete(e.key);
    }
    const entry = await kv.get<GenerationRecord>(generationKey(old.id));
    const { spend_counted: _, ...legacy } = entry.value!;
    await kv.set(entry.key, legacy);
    assert.ok((await updateGeneration(deps, old.id, failPlan("boom", clock.now()))).committed);
    assert.equal(await getBalance(kv, org.id), 10_000, "the credits are refunded");
    // The allowance is exactly the limit: one generation, not two.
    await createGeneration(deps, org.id, body(), ctx);
    await assert.rejects(createGeneration(deps, org.id, body(), ctx), KeyLimitExceeded);
    assert.equal((await getKeyPeriodUsage(kv, key.id, "all")).spent_cents, PRICE);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    kv.close();
  }
});

Deno.test("models[]: the most expensive candidate is checked and charged, the one that ran is kept", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { deps, clock, org, key, ctx } = await limitedKey(kv, {
      limit_cents: PRICE + 3,
      limit_reset: "daily",
    });
    const g = await createGeneration(deps, org.id, bodyModels(["t/one", "t/seven"]), ctx);
    const day = periodId("daily", clock.now());
    assert.equal((await getKeyPeriodUsage(kv, key.id, day)).spent_cents, PRICE);
    // 3 cents left: a t/one + t/seven request would cost 7 up front and is refused...
    await assert.rejects(
      createGeneration(deps, org.id, bodyModels(["t/one", "t/seven"]), ctx),
      KeyLimitExceeded,
    );
    // ...until the first settles to t/one's price (it ran on its first candidate).
    await updateGeneration(deps, g.id, completePlan(() => true, clock.now()));
    assert.equal((await getGeneration(kv, org.id, g.id)).cost_cents, 1);
    assert.equal((await getKeyPeriodUsage(kv, key.id, day)).spent_cents, 1);
    await createGeneration(deps, org.id, bodyModels(["t/one", "t/seven"]), ctx);
    assert.equal((await getKeyPeriodUsage(kv, key.id, day)).spent_cents, 1 + PRICE);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    kv.close();
  }
});

Deno.test("periods reset at UTC boundaries (moved clock), and say when in the 402", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // Sunday 2026-11-29 23:59 UTC: the day and the week end in a minute, the month tomorrow.
    const clock = testClock(Date.UTC(2026, 10, 29, 23, 59));
    const { deps } = setup(kv, clock);
    const org = await fundedOrg(kv, 10_000, clock.now());
    const cases = [
      ["daily", Date.UTC(2026, 10, 30)],
      ["weekly", Date.UTC(2026, 10, 30)],
      ["monthly", Date.UTC(2026, 11, 1)],
      ["never", null],
    ] as const;
    const keys = await Promise.all(
      cases.map(([reset]) =>
        createApiKey(kv, org.id, { name: reset, limit: { limit_cents: PRICE, limit_reset: reset } })
      ),
    );
    for (const [i, [, resetsAt]] of cases.entries()) {
      const ctx = { apiKeyId: keys[i].id };
      await createGeneration(deps, org.id, body(), ctx);
      const err = await createGeneration(deps, org.id, body(), ctx).catch((e) => e);
      assert.ok(err instanceof KeyLimitExceeded);
      assert.equal(err.data!.resets_at, resetsAt === null ? null : resetsAt / 1000);
      if (resetsAt) assert.match(err.message, new RegExp(new Date(resetsAt).toISOString()));
      else assert.match(err.message, /does not reset/);
    }
    clock.set(Date.UTC(2026, 10, 30, 0, 0)); // Monday 00:00: a new day and week, same month
    const after = await Promise.allSettled(
      keys.map((k) => createGeneration(deps, org.id, body(), { apiKeyId: k.id })),
    );
    assert.deepEqual(after.map((r) => r.status), [
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
    ]);
    clock.set(Date.UTC(2026, 11, 1)); // Tuesday, December: a new day and month, same week
    const december = await Promise.allSettled(
      keys.map((k) => createGeneration(deps, org.id, body(), { apiKeyId: k.id })),
    );
    assert.deepEqual(december.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "fulfilled",
      "rejected",
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("a limit lowered below what is spent blocks the next request and leaves past ones", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { deps, org, key, ctx } = await limitedKey(kv, {
      limit_cents: 10 * PRICE,
      limit_reset: "monthly",
    });
    const made = await Promise.all(
      [1, 2, 3].map(() => createGeneration(deps, org.id, body(), ctx)),
    );
    const before = await getBalance(kv, org.id);
    await setKeyLimit(kv, org.id, key.id, { limit_cents: PRICE, limit_reset: "monthly" }, 0);
    const err = await createGeneration(deps, org.id, body("t/one"), ctx).catch((e) => e);
    assert.ok(err instanceof KeyLimitExceeded);
    assert.equal(err.data!.spent_cents, 3 * PRICE);
    assert.equal(await getBalance(kv, org.id), before);
    for (const g of made) {
      const rec = await getGeneration(kv, org.id, g.id);
      assert.equal(rec.status, "pending");
      assert.equal(rec.charged_cents, PRICE);
    }
    assert.equal((await chargesOf(kv, org.id)).length, 3);
    // Removing the limit lets it through again.
    await setKeyLimit(kv, org.id, key.id, { limit_cents: null, limit_reset: "monthly" }, 0);
    await createGeneration(deps, org.id, body("t/one"), ctx);
  } finally {
    kv.close();
  }
});

Deno.test("monthly budget: 4N racing submissions over several keys, exactly N accepted", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { deps, clock } = setup(kv, testClock(Date.UTC(2026, 10, 30, 23)));
    const org = await fundedOrg(kv, 10_000, clock.now());
    await setSpendSettings(kv, org.id, { monthly_budget_cents: N * PRICE }, clock.now());
    const keys = await Promise.all(
      [1, 2, 3].map((i) => createApiKey(kv, org.id, { name: `k${i}` })),
    );
    const results = await Promise.allSettled(
      Array.from(
        { length: 4 * N },
        (_, i) =>
          createGeneration(deps, org.id, body(), { apiKeyId: i % 4 === 0 ? null : keys[i % 3].id }),
      ),
    );
    const { ok, errors } = outcomes(results);
    assert.equal(ok, N);
    for (const e of errors) {
      assert.ok(e instanceof BudgetExceeded, String(e));
      assert.equal(e.code, "budget_exceeded");
      assert.deepEqual(e.data, {
        budget_cents: N * PRICE,
        spent_cents: N * PRICE,
        resets_at: Date.UTC(2026, 11, 1) / 1000,
      });
    }
    const month = periodId("monthly", clock.now());
    assert.equal(await getOrgMonthSpent(kv, org.id, month), N * PRICE);
    assert.equal(await getBalance(kv, org.id), 10_000 - N * PRICE);
    assert.ok((await verifyLedger(kv, org.id)).ok);

    // A refund gives the budget back once.
    const first = results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<
      { id: string }
    >;
    await updateGeneration(deps, first.value.id, failPlan("boom", clock.now()));
    await updateGeneration(deps, first.value.id, failPlan("boom", clock.now()));
    assert.equal(await getOrgMonthSpent(kv, org.id, month), (N - 1) * PRICE);
    await createGeneration(deps, org.id, body());
    await assert.rejects(createGeneration(deps, org.id, body()), BudgetExceeded);

    // A lowered budget blocks the next one; the next month starts from zero.
    await setSpendSettings(kv, org.id, { monthly_budget_cents: 1 }, clock.now());
    await assert.rejects(createGeneration(deps, org.id, body("t/one")), BudgetExceeded);
    clock.set(Date.UTC(2026, 11, 1));
    await createGeneration(deps, org.id, body("t/one"));
    await assert.rejects(createGeneration(deps, org.id, body("t/one")), BudgetExceeded);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    kv.close();
  }
});

Deno.test("two instances on one KV file: a key limit and the budget hold across them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-spend-" });
  // Two handles on one file act like two instances: each has its own group-commit queues and
  // per-org chains, so only KV's checks keep them apart. Opened as the app opens its KV, whose
  // commits ride out SQLite's "database is locked" between the two handles.
  const kvA = await openKv(`${dir}/kv.sqlite`);
  const kvB = await openKv(`${dir}/kv.sqlite`);
  try {
    // One injected clock for both instances and for every period read back below.
    const clock = testClock();
    const a = setup(kvA, clock).deps;
    const b = setup(kvB, clock).deps;
    const org = await fundedOrg(kvA, 10_000, clock.now());
    const key = await createApiKey(kvA, org.id, {
      name: "ci",
      limit: { limit_cents: N * PRICE, limit_reset: "monthly" },
    }, { nowMs: clock.now() });
    const results = await Promise.allSettled(
      Array.from(
        { length: 4 * N },
        (_, i) => createGeneration(i % 2 ? a : b, org.id, body(), { apiKeyId: key.id }),
      ),
    );
    const { ok, errors } = outcomes(results);
    assert.equal(ok, N);
    assert.ok(errors.every((e) => e instanceof KeyLimitExceeded), String(errors));
    const month = periodId("monthly", clock.now());
    assert.equal((await getKeyPeriodUsage(kvB, key.id, month)).spent_cents, N * PRICE);

    // The same for the budget, with the key's limit lifted.
    await setKeyLimit(
      kvA,
      org.id,
      key.id,
      { limit_cents: null, limit_reset: "never" },
      clock.now(),
    );
    await setSpendSettings(kvA, org.id, { monthly_budget_cents: 2 * N * PRICE }, clock.now());
    const more = await Promise.allSettled(
      Array.from({ length: 4 * N }, (_, i) => createGeneration(i % 2 ? a : b, org.id, body())),
    );
    assert.equal(outcomes(more).ok, N);
    assert.ok(
      outcomes(more).errors.every((e) => e instanceof BudgetExceeded),
      String(outcomes(more).errors),
    );
    assert.equal(await getOrgMonthSpent(kvA, org.id, month), 2 * N * PRICE);
    assert.equal(await getBalance(kvA, org.id), 10_000 - 2 * N * PRICE);
    assert.ok((await verifyLedger(kvB, org.id)).ok);
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
});
