import assert from "node:assert/strict";
import { createKvJobQueue, enqueueInAtomic, type Job } from "./jobs.ts";

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
