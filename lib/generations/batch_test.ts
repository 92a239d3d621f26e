import assert from "node:assert/strict";
import { Conflict, InsufficientCredits } from "../errors.ts";
import { creditOrg, getBalance, type LedgerEntry, listLedger, verifyLedger } from "../db/ledger.ts";
import { getGeneration, listGenerations } from "../db/generations.ts";
import { createGeneration } from "./service.ts";
import { type BatchTuning, ChargeUnavailable, MAX_BATCH, waitingFor } from "./batch.ts";
import { parseGenerationBody } from "./schema.ts";
import { guardKv, KV_LIMITS, KvLimitExceeded, openKv } from "../db/kv.ts";
import {
  fundedOrg,
  scriptedAdapter,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";

/**
 * Deps whose org commits can be held: the first commit waits on `release()`, so everything
 * submitted meanwhile queues up and goes out in the batches that follow. `batches` records the
 * size of every commit attempt in order.
 */
function heldDeps(kv: Deno.Kv, tuning: Omit<BatchTuning, "beforeCommit"> & {
  beforeCommit?: BatchTuning["beforeCommit"];
} = {}) {
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  const batches: { attempt: number; size: number }[] = [];
  /** Resolves once the first commit is being held. */
  const holding = async () => {
    for (const deadline = Date.now() + 5000; batches.length === 0;) {
      if (Date.now() > deadline) assert.fail("the first commit never started");
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const deps = {
    ...testDeps(kv, "/nonexistent", {
      adapters: { fal: scriptedAdapter("fal", {}).adapter },
      models: [
        testModel("t/one", "fal", 1),
        testModel("t/three", "fal", 3),
        testModel("t/six", "fal", 6),
      ],
    }),
    submitBatch: {
      ...tuning,
      async beforeCommit(b: { attempt: number; size: number }) {
        batches.push(b);
        if (batches.length === 1) await held;
        await tuning.beforeCommit?.(b);
      },
    },
  };
  return { deps, release, batches, holding };
}

const body = (model: string, prompt = "p") => parseGenerationBody({ model, prompt });

/** Polls (with a deadline) until `n` submissions of the org wait behind the held commit. */
async function untilWaiting(kv: Deno.Kv, orgId: string, n: number) {
  for (const deadline = Date.now() + 5000; waitingFor(kv, orgId) < n;) {
    if (Date.now() > deadline) assert.fail(`only ${waitingFor(kv, orgId)} of ${n} queued`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function countGenerations(kv: Deno.Kv, orgId: string) {
  let n = 0;
  for await (const _ of kv.list({ prefix: ["org_generations", orgId] })) n++;
  return n;
}

const charges = async (kv: Deno.Kv, orgId: string) =>
  (await listLedger(kv, orgId, { limit: 200 })).data.filter((e) => e.kind === "charge").reverse();

Deno.test("one batch: arrival order against the running balance, refusals write nothing", async () => {
  const kv = await openKv(":memory:");
  try {
    const { deps, release, batches, holding } = heldDeps(kv);
    const org = await fundedOrg(kv, 11);
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    // While the first commit is held, five more queue: 6 fits (4 left), 6 does not, 3 fits
    // (1 left), 1 fits (0 left), 3 does not.
    const rest = ["t/six", "t/six", "t/three", "t/one", "t/three"].map((m) =>
      createGeneration(deps, org.id, body(m))
    );
    await untilWaiting(kv, org.id, 5);
    release();
    await first;
    const results = await Promise.allSettled(rest);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "rejected",
    ]);
    for (const i of [1, 4]) {
      const reason = (results[i] as PromiseRejectedResult).reason;
      assert.ok(reason instanceof InsufficientCredits && reason.status === 402, String(reason));
    }
    assert.deepEqual(batches, [{ attempt: 0, size: 1 }, { attempt: 0, size: 5 }]);
    assert.equal(await getBalance(kv, org.id), 0);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 0, sum: 0, ok: true });
    const ids = results.flatMap((r) => r.status === "fulfilled" ? [r.value.id] : []);
    assert.deepEqual([...ids].sort(), ids, "ids in arrival order");
    const ledger = await charges(kv, org.id);
    assert.deepEqual(
      ledger.map((e: LedgerEntry) => [e.amount_cents, e.balance_after, e.generation_id]),
      [[-1, 10, (await first).id], [-6, 4, ids[0]], [-3, 1, ids[1]], [-1, 0, ids[2]]],
    );
    assert.equal(await countGenerations(kv, org.id), 4);
    for (const id of ids) assert.equal((await getGeneration(kv, org.id, id)).status, "pending");
  } finally {
    kv.close();
  }
});

Deno.test("a credit landing between a batch's read and commit: the batch retries, each charged once", async () => {
  const kv = await openKv(":memory:");
  try {
    const org = await fundedOrg(kv, 5);
    const { deps, release, batches, holding } = heldDeps(kv, {
      async beforeCommit(b) {
        // Another writer's sum() credit moves the balance under the batch's check.
        if (b.size > 1 && b.attempt === 0) {
          await creditOrg(kv, org.id, 6, { kind: "topup", reason: "race" });
        }
      },
    });
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    const rest = Array.from({ length: 10 }, () => createGeneration(deps, org.id, body("t/one")));
    await untilWaiting(kv, org.id, 10);
    release();
    const created = await Promise.all([first, ...rest]); // 5 + 6 = 11 cents for 11 requests
    assert.deepEqual(batches, [
      { attempt: 0, size: 1 },
      { attempt: 0, size: 10 },
      { attempt: 1, size: 10 },
    ]);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 0, sum: 0, ok: true });
    const ledger = await charges(kv, org.id);
    assert.deepEqual(
      ledger.map((e) => e.generation_id),
      created.map((g) => g.id),
      "one charge per generation, in order",
    );
    assert.deepEqual(ledger.map((e) => e.balance_after), [4, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    assert.equal(await countGenerations(kv, org.id), 11);
  } finally {
    kv.close();
  }
});

Deno.test("one Idempotency-Key used several times in one batch creates one generation", async () => {
  const kv = await openKv(":memory:");
  try {
    const { deps, release, batches, holding } = heldDeps(kv);
    const org = await fundedOrg(kv, 100);
    const first = createGeneration(deps, org.id, body("t/three"));
    await holding();
    const k = { idempotencyKey: "same-key" };
    const submissions = [
      createGeneration(deps, org.id, body("t/three", "a"), k),
      createGeneration(deps, org.id, body("t/one")),
      createGeneration(deps, org.id, body("t/three", "a"), k),
      createGeneration(deps, org.id, body("t/three", "other body"), k),
      createGeneration(deps, org.id, body("t/three", "a"), k),
      createGeneration(deps, org.id, body("t/one"), { idempotencyKey: "another-key" }),
    ];
    await untilWaiting(kv, org.id, submissions.length);
    release();
    await first;
    const r = await Promise.allSettled(submissions);
    const value = (i: number) => (r[i] as PromiseFulfilledResult<{ id: string }>).value;
    assert.deepEqual(r.map((x) => x.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    assert.deepEqual(value(2), value(0));
    assert.deepEqual(value(4), value(0));
    assert.ok((r[3] as PromiseRejectedResult).reason instanceof Conflict);
    // A second use of a key starts the next batch; batches that only replay or refuse commit
    // nothing, so 4 generations took at most 1 + 3 submissions through commits.
    assert.ok(batches.length <= 4, JSON.stringify(batches));
    assert.equal(await countGenerations(kv, org.id), 4); // first, "a" once, and the two others
    assert.equal(await getBalance(kv, org.id), 100 - 3 - 3 - 1 - 1);
    assert.ok((await verifyLedger(kv, org.id)).ok);
  } finally {
    kv.close();
  }
});

Deno.test("batches at the maximum size, with an Idempotency-Key each, stay within KV's limits", async () => {
  const kv = await openKv(":memory:");
  try {
    // The handle refuses a commit beyond denokv's limits: 48 submissions with a key each fit.
    for (const maxBatch of [MAX_BATCH, 48]) {
      const { deps, release, batches, holding } = heldDeps(kv, { maxBatch });
      const org = await fundedOrg(kv, 1000);
      const first = createGeneration(deps, org.id, body("t/one"));
      await holding();
      const n = 2 * maxBatch + 3;
      const rest = Array.from(
        { length: n },
        (_, i) => createGeneration(deps, org.id, body("t/one"), { idempotencyKey: `k${i}` }),
      );
      await untilWaiting(kv, org.id, n);
      release();
      const created = await Promise.all([first, ...rest]);
      assert.deepEqual(batches.map((b) => b.size), [1, maxBatch, maxBatch, 3]);
      assert.equal(new Set(created.map((g) => g.id)).size, n + 1);
      assert.equal(await countGenerations(kv, org.id), n + 1);
      assert.deepEqual(await verifyLedger(kv, org.id), {
        balance: 1000 - n - 1,
        sum: 1000 - n - 1,
        ok: true,
      });
    }
  } finally {
    kv.close();
  }
});

Deno.test("large submissions split batches by size, never past KV's 800 KiB per commit", async () => {
  const kv = await openKv(":memory:");
  try {
    const { deps, release, batches, holding } = heldDeps(kv);
    const org = await fundedOrg(kv, 1000);
    // Prompts and metadata at their caps (metadata: 4096 characters as JSON), in characters V8
    // stores in two bytes.
    const metadata = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, "鍵"), "値".repeat(185)]),
    );
    const big = parseGenerationBody({
      model: "t/one",
      prompt: "漢".repeat(4000),
      webhook_url: `http://93.184.215.14/${"w".repeat(2000)}`, // a public address literal
      metadata,
    });
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    const rest = Array.from({ length: MAX_BATCH }, () => createGeneration(deps, org.id, big));
    await untilWaiting(kv, org.id, MAX_BATCH);
    release();
    await Promise.all([first, ...rest]);
    const sizes = batches.map((b) => b.size);
    assert.ok(sizes.length > 2 && sizes.slice(1).every((s) => s < MAX_BATCH), String(sizes));
    assert.equal(sizes.reduce((a, b) => a + b), MAX_BATCH + 1);
    const g = (await listGenerations(kv, org.id, { limit: 1 })).data[0];
    assert.equal(g.options.prompt.length, 4000);
    assert.deepEqual(g.metadata, metadata);
    assert.equal(await countGenerations(kv, org.id), MAX_BATCH + 1);
  } finally {
    kv.close();
  }
});

Deno.test("a batch refused as beyond a KV limit is retried one submission at a time", async () => {
  const kv = await openKv(":memory:");
  try {
    const { deps, release, batches, holding } = heldDeps(kv, {
      beforeCommit(b) {
        if (b.size > 1) throw new KvLimitExceeded("mutationBytes", "a commit the estimate missed");
      },
    });
    const org = await fundedOrg(kv, 2);
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    const rest = [body("t/one"), body("t/one")].map((b) => createGeneration(deps, org.id, b));
    await untilWaiting(kv, org.id, 2);
    release();
    await first;
    const r = await Promise.allSettled(rest);
    // The second alone no longer fits: refused before any commit.
    assert.deepEqual(batches.map((b) => b.size), [1, 2, 1]);
    assert.equal(r[0].status, "fulfilled");
    assert.ok((r[1] as PromiseRejectedResult).reason instanceof InsufficientCredits);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 0, sum: 0, ok: true });
  } finally {
    kv.close();
  }
});

Deno.test("50 creates racing 50 sum() credits keep balance == sum(ledger)", async () => {
  const kv = await openKv(":memory:");
  try {
    const deps = testDeps(kv, "/nonexistent", {
      adapters: { fal: scriptedAdapter("fal", {}).adapter },
      models: [testModel("t/two", "fal", 2)],
    });
    const org = await fundedOrg(kv, 40);
    const input = body("t/two");
    const results = await Promise.allSettled([
      ...Array.from(
        { length: 50 },
        (_, i) => createGeneration(deps, org.id, input, i % 5 ? {} : { idempotencyKey: `k${i}` }),
      ),
      ...Array.from({ length: 50 }, () => creditOrg(kv, org.id, 1, { kind: "topup" })),
    ]);
    const created = results.slice(0, 50).filter((r) => r.status === "fulfilled").length;
    for (const r of results) {
      if (r.status === "rejected") assert.ok(r.reason instanceof InsufficientCredits, r.reason);
    }
    // 40 cents could buy 20, the credits at most 25 more; whatever the interleaving, no cent is
    // lost or spent twice.
    assert.ok(created >= 20 && created <= 45, String(created));
    const expected = 40 + 50 - 2 * created;
    assert.deepEqual(await verifyLedger(kv, org.id), {
      balance: expected,
      sum: expected,
      ok: true,
    });
    assert.equal((await charges(kv, org.id)).length, created);
    assert.equal(await countGenerations(kv, org.id), created);
  } finally {
    kv.close();
  }
});

/** A KV whose next commit is applied but its answer lost (as over a dropped connection). */
function losingKv(kv: Deno.Kv) {
  const state = { loseNext: false, failNextGet: false };
  const wrapAtomic = (op: Deno.AtomicOperation) =>
    new Proxy(op, {
      get(target, prop) {
        if (prop === "commit") {
          return async () => {
            const res = await target.commit();
            if (state.loseNext) {
              state.loseNext = false;
              throw new Error("connection reset while committing");
            }
            return res;
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapAtomic(target.atomic());
      if ((prop === "get" || prop === "getMany") && state.failNextGet) {
        return (key: Deno.KvKey & Deno.KvKey[]) => {
          if (!state.loseNext) {
            state.failNextGet = false;
            return Promise.reject(new Error("connection reset while reading"));
          }
          return prop === "get" ? target.get(key) : target.getMany(key);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { kv: proxy, state };
}

Deno.test("a batch commit whose answer is lost but which landed is not retried (no double charge)", async () => {
  const real = await openKv(":memory:");
  try {
    const { kv, state } = losingKv(real);
    const { deps, release, batches, holding } = heldDeps(kv, {
      beforeCommit(b) {
        if (b.size === 3) state.loseNext = true;
      },
    });
    const org = await fundedOrg(kv, 10);
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    const rest = Array.from({ length: 3 }, () => createGeneration(deps, org.id, body("t/one")));
    await untilWaiting(kv, org.id, 3);
    release();
    const created = await Promise.all([first, ...rest]);
    assert.equal(state.loseNext, false, "a commit answer was lost");
    assert.deepEqual(batches.map((b) => b.size), [1, 3]);
    assert.equal(new Set(created.map((g) => g.id)).size, 4);
    assert.equal(await countGenerations(kv, org.id), 4);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 6, sum: 6, ok: true });
  } finally {
    real.close();
  }
});

Deno.test("a batch whose commit outcome cannot be learned is refused whole, never split and re-charged", async () => {
  const real = await openKv(":memory:");
  try {
    const { kv, state } = losingKv(real);
    const { deps, release, holding } = heldDeps(kv, {
      beforeCommit(b) {
        if (b.size === 3) {
          state.loseNext = true;
          state.failNextGet = true;
        }
      },
    });
    const org = await fundedOrg(kv, 10);
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    const rest = Array.from({ length: 3 }, () => createGeneration(deps, org.id, body("t/one")));
    await untilWaiting(kv, org.id, 3);
    release();
    await first;
    const outcomes = await Promise.allSettled(rest);
    for (const o of outcomes) {
      assert.equal(o.status, "rejected");
      assert.ok((o as PromiseRejectedResult).reason instanceof ChargeUnavailable);
    }
    // The commit did land: the three are charged once each, and nothing was charged again.
    assert.equal(await countGenerations(kv, org.id), 4);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 6, sum: 6, ok: true });
  } finally {
    real.close();
  }
});

/** The app's handle on `raw`, recording the number of checks of every commit it is given. */
function countingChecks(raw: Deno.Kv) {
  const checks: number[] = [];
  const kv = new Proxy(guardKv(raw), {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          let n = 0;
          const proxy: Deno.AtomicOperation = new Proxy(op, {
            get(t, p) {
              const v = Reflect.get(t, p, t);
              if (typeof v !== "function") return v;
              if (p === "commit") return () => (checks.push(n), v.call(t));
              return (...args: unknown[]) => {
                if (p === "check") n += args.length;
                const out = v.apply(t, args);
                return out === t ? proxy : out;
              };
            },
          });
          return proxy;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { kv, checks };
}

Deno.test("200 concurrent submissions with keys, API keys and a budget: every commit within 10 checks, still batched", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    const { kv, checks } = countingChecks(raw);
    const batches: number[] = [];
    const deps = {
      ...testDeps(kv, "/nonexistent", {
        adapters: { fal: scriptedAdapter("fal", {}).adapter },
        models: [testModel("t/one", "fal", 1)],
      }),
      submitBatch: { beforeCommit: (b: { size: number }) => void batches.push(b.size) },
    };
    const org = await fundedOrg(kv, 150);
    // Twelve API keys (each one's spend counters are read and written), a monthly budget, a
    // low-balance threshold and an auto top-up (their crossing records), an Idempotency-Key each.
    const apiKeys = Array.from({ length: 12 }, (_, i) => `key_${i}`);
    await kv.set(["spend_settings", org.id], {
      monthly_budget_cents: 1000,
      low_balance_cents: 100,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        createGeneration(deps, org.id, body("t/one", `p${i}`), {
          idempotencyKey: `k${i}`,
          apiKeyId: apiKeys[i % apiKeys.length],
        })),
    );
    const created = results.filter((r) => r.status === "fulfilled").length;
    for (const r of results) {
      if (r.status === "rejected") assert.ok(r.reason instanceof InsufficientCredits, r.reason);
    }
    assert.equal(created, 150, "the balance bought exactly 150");
    assert.ok(checks.length > 0 && Math.max(...checks) <= KV_LIMITS.checks, String(checks));
    assert.ok(Math.max(...batches) >= 10, `submissions still share commits: ${batches}`);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 0, sum: 0, ok: true });
    assert.equal(await countGenerations(kv, org.id), 150);
  } finally {
    raw.close();
  }
});

Deno.test("a commit sent twice (KV Connect resends after a lost answer) is not charged again", async () => {
  const real = await openKv(":memory:");
  try {
    // The first send lands; its answer is lost; the resend fails the check the first one moved.
    let resend = false;
    const kv = new Proxy(real, {
      get(target, prop) {
        if (prop === "atomic") {
          return () =>
            new Proxy(target.atomic(), {
              get(op, p) {
                const v = Reflect.get(op, p, op);
                if (typeof v !== "function") return v;
                if (p === "commit") {
                  return async () => {
                    const res = await v.call(op);
                    if (!resend) return res;
                    resend = false;
                    return { ok: false };
                  };
                }
                return v.bind(op);
              },
            });
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const { deps, release, holding } = heldDeps(kv, {
      beforeCommit(b) {
        if (b.size === 3) resend = true;
      },
    });
    const org = await fundedOrg(kv, 10);
    const first = createGeneration(deps, org.id, body("t/one"));
    await holding();
    const rest = Array.from({ length: 3 }, () => createGeneration(deps, org.id, body("t/one")));
    await untilWaiting(kv, org.id, 3);
    release();
    const created = await Promise.all([first, ...rest]);
    assert.equal(new Set(created.map((g) => g.id)).size, 4);
    assert.equal(await countGenerations(kv, org.id), 4);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 6, sum: 6, ok: true });
  } finally {
    real.close();
  }
});
