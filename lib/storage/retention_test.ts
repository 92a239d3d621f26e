/**
 * The retention sweep's cursor and failure edges against a real in-memory KV and the real local
 * backend: a cursor already past the cutoff (VIDEO_RETENTION_DAYS raised, clock stepped back)
 * is not an error, and the expired-records cleanup runs even when the video walk fails.
 */
import assert from "node:assert/strict";
import { runRetentionSweep } from "./retention.ts";
import { localBackend } from "./mod.ts";
import { generationKey } from "../db/generations.ts";
import { createSession } from "../db/sessions.ts";
import { retentionCursorKey } from "../db/retention.ts";
import { idFloor } from "../ids.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-11-29T10:00:00Z");
// Ids from idFloor: newId is monotonic within the process, so it cannot go back in time.

/** A session that expired 10 days before NOW (KV's own expiry is real time, far off). */
async function expiredSession(kv: Deno.Kv) {
  const { session } = await createSession(kv, "usr_01JD0000000000000000000000", {
    nowMs: NOW - 40 * DAY,
  });
  return session;
}

Deno.test("retention: a cursor past the new cutoff skips the video walk and still cleans records", async () => {
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
  await runRetentionSweep(deps(1, NOW));
  assert.equal((await kv.get(retentionCursorKey("videos"))).value, id);

  // The operator raises retention to 30 days; the next minutes' sweeps run without error and
  // keep deleting expired sessions.
  await expiredSession(kv);
  const after = await runRetentionSweep(deps(30, NOW + 60_000));
  assert.deepEqual(after?.expired, []);
  assert.equal(after?.records.sessions, 1);
  const again = await runRetentionSweep(deps(30, NOW + 120_000));
  assert.deepEqual(again?.expired, []);
  assert.equal((await kv.get(retentionCursorKey("videos"))).value, id);
});

Deno.test("retention: the records cleanup runs when deleting a video fails", async () => {
  using kv = await Deno.openKv(":memory:");
  const dataDir = await Deno.makeTempDir();
  try {
    const id = idFloor("gen", NOW - 40 * DAY);
    await kv.set(generationKey(id), {
      id,
      status: "completed",
      output: { url: "x" },
      completed_at: NOW - 40 * DAY,
    });
    // A non-empty directory where the video file would be: the real removal fails.
    await Deno.mkdir(`${dataDir}/videos/${id}.mp4/inner`, { recursive: true });
    const session = await expiredSession(kv);
    await assert.rejects(runRetentionSweep({
      kv,
      stores: [localBackend(dataDir)],
      retentionDays: 30,
      now: () => NOW,
      log: () => {},
    }));
    const left = await Array.fromAsync(kv.list({ prefix: ["sessions"] }));
    assert.equal(left.length, 0, `session ${session.id} should have been deleted`);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
