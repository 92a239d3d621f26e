import assert from "node:assert/strict";
import { createKvJobQueue, createLimiter, enqueueInAtomic, type Job } from "./jobs.ts";

Deno.test("jobs enqueued directly or inside an atomic op reach their handler", async () => {
  const kv = await Deno.openKv(":memory:");
  const queue = createKvJobQueue(kv, () => {});
  const seen: Job[] = [];
  const { promise: bothSeen, resolve } = Promise.withResolvers<void>();
  const listening = queue.listen({
    "thing.do": (job) => {
      seen.push(job);
      if (seen.length === 2) resolve();
      return Promise.resolve();
    },
  });
  await kv.enqueue({ junk: true }); // malformed messages are dropped, not fatal
  await queue.enqueue({ type: "thing.do", id: "a" });
  const res = await enqueueInAtomic(kv.atomic().set(["x"], 1), { type: "thing.do", id: "b" })
    .commit();
  assert.ok(res.ok);
  await bothSeen;
  assert.deepEqual(seen.map((j) => j.id).sort(), ["a", "b"]);
  kv.close();
  await listening;
});

Deno.test("the job limiter never runs more than its limit at once and runs every task", async () => {
  const run = createLimiter(3);
  let running = 0, peak = 0;
  const release: (() => void)[] = [];
  const tasks = Array.from({ length: 10 }, (_, i) =>
    run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => release.push(r));
      running--;
      return i;
    }));
  while (release.length || running) {
    await new Promise((r) => setTimeout(r, 0));
    release.shift()?.();
  }
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(peak, 3);
});
