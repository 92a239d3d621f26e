/**
 * The retention sweep's cursor edge against a real in-memory KV: a cursor already past the cutoff
 * (VIDEO_RETENTION_DAYS raised, clock stepped back) is not an error. (Expired KV records have
 * their own sweep: lib/db/expiry_test.ts.)
 */
import assert from "node:assert/strict";
import { retentionSweep } from "./retention.ts";
import { generationKey } from "../db/generations.ts";
import { retentionCursorKey } from "../db/retention.ts";
import { idFloor } from "../ids.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-11-29T10:00:00Z");
// Ids from idFloor: newId is monotonic within the process, so it cannot go back in time.

Deno.test("retention: a cursor past the new cutoff skips the video walk", async () => {
  using kv = await Deno.openKv(":memory:");
  // A failed generation (no video) 5 days old: the 1-day sweep walks past it.
  const id = idFloor("gen", NOW - 5 * DAY);
  await kv.set(generationKey(id), {
    id,
    status: "failed",
    output: null,
    completed_at: NOW - 5 * DAY,
  });
  const logs: string[] = [];
  const deps = (days: number, now: number) => ({
    kv,
    stores: [],
    retentionDays: days,
    now: () => now,
    log: (m: string) => logs.push(m),
  });
  await retentionSweep.run(deps(1, NOW));
  assert.equal((await kv.get(retentionCursorKey("videos"))).value, id);

  // The operator raises retention to 30 days; the next minutes' sweeps run without error.
  const after = await retentionSweep.run(deps(30, NOW + 60_000));
  assert.deepEqual(after?.expired, []);
  const again = await retentionSweep.run(deps(30, NOW + 120_000));
  assert.deepEqual(again?.expired, []);
  assert.equal((await kv.get(retentionCursorKey("videos"))).value, id);
});
