import { openKv } from "./db/kv.ts";
import assert from "node:assert/strict";
import {
  createKvJobQueue,
  enqueueInAtomic,
  type Job,
  type JobHandler,
  type RunnerOptions,
} from "./jobs.ts";
import { jobKey, listJobs, retryDeadJob } from "./db/jobs.ts";

const FAST: RunnerOptions = { pollMs: 100, leaseMs: 2_000 };

/** Polls `cond` every 10 ms until true; fails after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms = 5_000, what = "condition") {
  const end = Date.now() + ms;
  while (!await cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function tempKvPath() {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-jobs-" });
  return { dir, path: `${dir}/kv.sqlite` };
}

Deno.test("jobs enqueued directly or inside an atomic op reach their handler; a duplicate in one commit is one job", async () => {
  const kv = await Deno.openKv(":memory:");
  const queue = createKvJobQueue(kv, () => {}, FAST);
  const seen: string[] = [];
  const listening = queue.listen({
    "thing.do": (job) => {
      seen.push(job.id);
      return Promise.resolve();
    },
  });
  await queue.enqueue({ type: "thing.do", id: "a" });
  const a = kv.atomic().set(["x"], 1);
  enqueueInAtomic(a, { type: "thing.do", id: "b" });
  enqueueInAtomic(a, { type: "thing.do", id: "b" });
  assert.ok((await a.commit()).ok);
  // No job record is left once both ran, so nothing can run again; the runner is then stopped.
  await until(async () => (await listJobs(kv, "pending", { limit: 10 })).data.length === 0);
  kv.close();
  await listening;
  assert.deepEqual(seen.sort(), ["a", "b"]);
});

Deno.test("delayed jobs start on time, not before", async () => {
  const kv = await Deno.openKv(":memory:");
  // A long poll: only the runner's own wake-up at the due time can make these on time.
  const queue = createKvJobQueue(kv, () => {}, { pollMs: 5_000 });
  const started = new Map<string, number>();
  const listening = queue.listen({
    "thing.later": (job) => {
      started.set(job.id, Date.now());
      return Promise.resolve();
    },
  });
  const t0 = Date.now();
  await Promise.all(
    [300, 700].map((d) => queue.enqueue({ type: "thing.later", id: `${d}` }, { delayMs: d })),
  );
  await until(() => started.size === 2, 5_000, "delayed jobs");
  for (const d of [300, 700]) {
    const late = started.get(`${d}`)! - t0 - d;
    assert.ok(late >= -5 && late < 250, `job due at +${d} ms started ${late} ms late`);
  }
  kv.close();
  await listening;
});

Deno.test("a failing job is retried with backoff, parked as dead with its error, and retried from there", async () => {
  const kv = await Deno.openKv(":memory:");
  const queue = createKvJobQueue(kv, () => {}, { ...FAST, backoffMs: [150, 400], maxAttempts: 3 });
  const attempts: number[] = [];
  let healthy = false;
  const listening = queue.listen({
    "thing.flaky": () => {
      attempts.push(Date.now());
      return healthy
        ? Promise.resolve()
        : Promise.reject(new Error(`upstream said no #${attempts.length}`));
    },
  });
  await queue.enqueue({ type: "thing.flaky", id: "f1", org: "org_1" });
  await until(
    async () => (await listJobs(kv, "dead", { limit: 10 })).data.length === 1,
    5_000,
    "dead",
  );
  assert.equal(attempts.length, 3);
  assert.ok(attempts[1] - attempts[0] >= 150, `first backoff ${attempts[1] - attempts[0]} ms`);
  assert.ok(attempts[2] - attempts[1] >= 400, `second backoff ${attempts[2] - attempts[1]} ms`);
  const [dead] = (await listJobs(kv, "dead", { limit: 10 })).data;
  assert.equal(dead.type, "thing.flaky");
  assert.equal(dead.org, "org_1");
  assert.equal(dead.last_error, "upstream said no #3");
  assert.equal((await kv.get(jobKey("thing.flaky", "f1"))).value, null, "no longer pending");

  healthy = true;
  assert.equal(await retryDeadJob(kv, "thing.flaky", "f1", Date.now()), true);
  assert.equal(await retryDeadJob(kv, "thing.flaky", "f1", Date.now()), false, "retried once");
  await until(() => attempts.length === 4, 5_000, "the retried run");
  await until(async () => (await listJobs(kv, "pending", { limit: 10 })).data.length === 0);
  assert.equal((await listJobs(kv, "dead", { limit: 10 })).data.length, 0);
  kv.close();
  await listening;
});

Deno.test("two runners on one KV file never run the same job at the same time, and run every job", async () => {
  const { dir, path } = await tempKvPath();
  const [kv1, kv2] = [await openKv(path), await openKv(path)];
  const running = new Set<string>();
  const runs = new Map<string, number>();
  const byRunner = [0, 0];
  let overlaps = 0;
  const handler = (runner: number): JobHandler => async (job) => {
    if (running.has(job.id)) overlaps++;
    running.add(job.id);
    byRunner[runner]++;
    // Long enough that one runner's slots cannot drain all 60 before the other's poll (100 ms).
    await new Promise((r) => setTimeout(r, 50));
    running.delete(job.id);
    runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
  };
  const q1 = createKvJobQueue(kv1, () => {}, FAST);
  const q2 = createKvJobQueue(kv2, () => {}, FAST);
  const listening = [
    q1.listen({ "thing.once": handler(0) }),
    q2.listen({ "thing.once": handler(1) }),
  ];
  const ids = Array.from({ length: 60 }, (_, i) => `j${i}`);
  for (let i = 0; i < ids.length; i += 10) {
    const a = kv1.atomic();
    for (const id of ids.slice(i, i + 10)) {
      enqueueInAtomic(a, { type: "thing.once", id, org: `org_${i % 3}` });
    }
    assert.ok((await a.commit()).ok);
  }
  await until(() => runs.size === ids.length, 15_000, "every job");
  // Every record gone means no job can run again; stopping both runners then settles the counts.
  await until(async () => (await listJobs(kv1, "pending", { limit: 10 })).data.length === 0);
  kv1.close();
  kv2.close();
  await Promise.all(listening);
  assert.equal(overlaps, 0);
  assert.deepEqual([...runs.values()].filter((n) => n !== 1), [], "each job ran once");
  assert.ok(byRunner[0] > 0 && byRunner[1] > 0, `both runners worked: ${byRunner}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a job held by a live process stays there; once that process is killed it runs elsewhere after its lease", async () => {
  const { dir, path } = await tempKvPath();
  const kv = await openKv(path);
  const leaseMs = 600;
  // The other process: claims the job, renews its lease, and never finishes.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--unstable-kv",
      `
      import { createKvJobQueue } from "${new URL("./jobs.ts", import.meta.url)}";
      import { openKv } from "${new URL("./db/kv.ts", import.meta.url)}";
      const kv = await openKv(${JSON.stringify(path)});
      createKvJobQueue(kv, () => {}, { pollMs: 50, leaseMs: ${leaseMs} }).listen({
        "thing.long": async () => {
          await kv.set(["child_started"], Deno.pid);
          await new Promise(() => {});
        },
      });`,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  let ranHere = 0;
  let listening: Promise<void> | undefined;
  try {
    const queue = createKvJobQueue(kv, () => {}, { pollMs: 50, leaseMs });
    await queue.enqueue({ type: "thing.long", id: "L" });
    await until(async () => (await kv.get(["child_started"])).value !== null, 20_000, "the child");
    listening = queue.listen({
      "thing.long": () => {
        ranHere++;
        return Promise.resolve();
      },
    });
    // Several lease lengths: the child's heartbeat keeps the job while it lives.
    await new Promise((r) => setTimeout(r, leaseMs * 3));
    assert.equal(ranHere, 0, "a live holder keeps its job");
    child.kill("SIGKILL");
    const killedAt = Date.now();
    await child.status;
    await until(() => ranHere === 1, 5_000, "the takeover");
    const took = Date.now() - killedAt;
    assert.ok(took <= leaseMs + 500, `taken over ${took} ms after the kill`);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    kv.close();
    await listening;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one org's flood of slow jobs never takes every slot from another org, and webhooks have their own", async () => {
  const kv = await Deno.openKv(":memory:");
  const queue = createKvJobQueue(kv, () => {}, { ...FAST, concurrency: 2 });
  const release = Promise.withResolvers<void>();
  const running = new Map<string, number>();
  let peakFlood = 0;
  const started: Job[] = [];
  const track: JobHandler = async (job) => {
    started.push(job);
    running.set(job.org ?? "", (running.get(job.org ?? "") ?? 0) + 1);
    if (job.org === "org_flood") peakFlood = Math.max(peakFlood, running.get("org_flood")!);
    if (job.org === "org_flood") await release.promise;
    running.set(job.org ?? "", running.get(job.org ?? "")! - 1);
  };
  const listening = queue.listen({ "gen.slow": track, "gen.quick": track, "webhook.send": track });
  const a = kv.atomic();
  for (let i = 0; i < 8; i++) {
    enqueueInAtomic(a, { type: "gen.slow", id: `s${i}`, org: "org_flood" });
  }
  for (let i = 0; i < 8; i++) {
    enqueueInAtomic(a, { type: "webhook.send", id: `w${i}`, org: "org_flood" });
  }
  await a.commit();
  await until(() => (running.get("org_flood") ?? 0) === 4, 3_000, "the flood to fill both lanes");
  const t0 = Date.now();
  await queue.enqueue({ type: "gen.quick", id: "q", org: "org_quiet" });
  await queue.enqueue({ type: "webhook.send", id: "wq", org: "org_quiet" });
  await until(() => started.some((j) => j.id === "q") && started.some((j) => j.id === "wq"), 2_000);
  assert.ok(Date.now() - t0 < 500, `the quiet org waited ${Date.now() - t0} ms`);
  assert.equal(peakFlood, 4, "the flood held its two slots per lane, no more");
  release.resolve();
  await until(() => started.length === 18, 5_000, "the rest of the flood");
  kv.close();
  await listening;
});

Deno.test("a KV handle whose queue methods throw still runs every job (nothing uses KV queues)", async () => {
  const real = await Deno.openKv(":memory:");
  const refuse = () => {
    throw new Error("KV queues are not available here");
  };
  /** `target` with `refused` methods throwing; chained calls (op.set().sum()) stay wrapped. */
  const without = <T extends object>(target: T, refused: string[]): T => {
    const proxy: T = new Proxy(target, {
      get(t, prop) {
        if (refused.includes(String(prop))) return refuse;
        if (prop === "atomic") return () => without(real.atomic(), ["enqueue"]);
        const v = Reflect.get(t, prop, t);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          const out = v.apply(t, args);
          return out === t ? proxy : out;
        };
      },
    });
    return proxy;
  };
  const kv = without(real, ["enqueue", "listenQueue"]);
  await assert.rejects(async () => await kv.atomic().set(["y"], 1).enqueue("x").commit());
  const queue = createKvJobQueue(kv, () => {}, FAST);
  const seen = new Set<string>();
  const listening = queue.listen({
    "thing.do": (job) => {
      seen.add(job.id);
      return Promise.resolve();
    },
  });
  for (let i = 0; i < 5; i++) {
    await queue.enqueue({ type: "thing.do", id: `d${i}` }, { delayMs: i * 20 });
  }
  await until(() => seen.size === 5, 5_000, "every job");
  real.close();
  await listening;
});

Deno.test("a job that runs undisturbed costs the runner one read and two commits (claim, finish)", async () => {
  const raw = await Deno.openKv(":memory:");
  const calls: string[] = [];
  // Every KV call of the runner, by method; a commit counts as "commit".
  const kv = new Proxy(raw, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => (calls.push("commit"), commit());
          return op;
        };
      }
      return (...args: unknown[]) => (calls.push(String(prop)), value.apply(target, args));
    },
  });
  const queue = createKvJobQueue(kv, () => {}, FAST);
  const listening = queue.listen({ "thing.do": () => Promise.resolve() });
  assert.ok((await enqueueInAtomic(raw.atomic(), { type: "thing.do", id: "a" }).commit()).ok);
  await until(async () => (await raw.get(jobKey("thing.do", "a"))).versionstamp === null);
  // Scans only list the due index (and the wake-up watch); the job itself: claim read and
  // commit, then the finish commit.
  assert.deepEqual(calls.filter((c) => c !== "list" && c !== "watch"), [
    "getMany",
    "commit",
    "commit",
  ]);
  raw.close();
  await listening;
});

Deno.test("a job enqueued again while it runs runs again after it; a failed attempt is retried", async () => {
  const kv = await Deno.openKv(":memory:");
  const queue = createKvJobQueue(kv, () => {}, { ...FAST, leaseMs: 300, backoffMs: [50] });
  const runs: string[] = [];
  const listening = queue.listen({
    "thing.again": async (job) => {
      runs.push(job.id);
      if (runs.filter((r) => r === job.id).length === 1) {
        // The outcome commit of this attempt finds a newer record: it must leave that one due.
        await queue.enqueue({ type: "thing.again", id: job.id });
      }
    },
    "thing.flaky": (job) => {
      runs.push(job.id);
      return runs.filter((r) => r === job.id).length === 1
        ? Promise.reject(new Error("first attempt fails"))
        : Promise.resolve();
    },
  });
  await queue.enqueue({ type: "thing.again", id: "a" });
  await queue.enqueue({ type: "thing.flaky", id: "f" });
  await until(() => runs.filter((r) => r === "a").length === 2, 5_000, "the second run of a");
  await until(() => runs.filter((r) => r === "f").length === 2, 5_000, "the retry of f");
  await until(async () => (await listJobs(kv, "pending", { limit: 10 })).data.length === 0);
  assert.equal((await listJobs(kv, "dead", { limit: 10 })).data.length, 0);
  kv.close();
  await listening;
});
