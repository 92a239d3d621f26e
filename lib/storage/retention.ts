/**
 * The retention sweep: videos older than VIDEO_RETENTION_DAYS are deleted from storage and their
 * generation marked expired (output_url null, `output_expired: true` in the API). It runs as a
 * minute job under a KV lease like the other sweeps, does bounded work per run, and is
 * idempotent. (KV records past their expiry have their own sweep: lib/db/expiry.ts.)
 */
import {
  addGenerationUpdate,
  generationKey,
  type GenerationRecord,
  GENERATIONS_PREFIX,
  isTerminal,
} from "../db/generations.ts";
import { RETENTION_LEASE_KEY, retentionCursorKey } from "../db/retention.ts";
import { idFloor } from "../ids.ts";
import { defineSweep } from "../jobs.ts";
import { type BackgroundLog, backgroundLog } from "../http/log.ts";
import type { VideoBackend } from "./types.ts";
import { backendFor, localBackend } from "./mod.ts";
import type { Services } from "../services.ts";

export const RETENTION_JOB = "storage.retention";
/** Shorter than the cron's minute, long enough that duplicate firings find it held. */
export const RETENTION_LEASE_MS = 50_000;
const DAY_MS = 24 * 3600_000;
const BATCH = 100;
const MAX_BATCHES = 5;

export interface RetentionDeps {
  kv: Deno.Kv;
  /** Where videos are stored now, then any other place a copy may remain (the local disk). */
  stores: VideoBackend[];
  /** 0 keeps videos forever. */
  retentionDays: number;
  now: () => number;
  log: BackgroundLog;
}

export interface RetentionResult {
  /** Generation ids whose video was deleted in this run. */
  expired: string[];
}

/** The video retention sweep (defineSweep: a minute cron enqueues it, a lease collapses copies). */
export const retentionSweep = defineSweep<RetentionDeps, RetentionResult>({
  type: RETENTION_JOB,
  leaseKey: RETENTION_LEASE_KEY,
  leaseMs: RETENTION_LEASE_MS,
  async sweep(deps, nowMs) {
    const expired = deps.retentionDays > 0 ? await expireVideos(deps, nowMs) : [];
    if (expired.length) deps.log(`retention: ${expired.length} videos expired`);
    return { expired };
  },
});

/**
 * Walks generations in id (= creation) order from the last settled one up to the cutoff. Every
 * generation before the cursor is settled: expired, or never had a video. The walk stops at the
 * first video not yet old enough (completed after the cutoff) and resumes there next time.
 */
async function expireVideos(deps: RetentionDeps, nowMs: number): Promise<string[]> {
  const { kv } = deps;
  const cutoff = nowMs - deps.retentionDays * DAY_MS;
  const cursorKey = retentionCursorKey("videos");
  const floor = idFloor("gen", cutoff);
  const expired: string[] = [];
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const settled = (await kv.get<string>(cursorKey)).value;
    // The cursor can be past the floor (retention raised, clock stepped back): nothing is due yet,
    // and KV refuses a start key after the end key.
    if (settled && settled >= floor) break;
    const list = kv.list<GenerationRecord>({
      start: settled ? [...generationKey(settled), 0] : GENERATIONS_PREFIX,
      end: generationKey(floor),
    }, { limit: BATCH });
    let last: string | null = null;
    let seen = 0;
    let blocked = false;
    for await (const e of list) {
      seen++;
      const g = e.value;
      if (g.status === "completed" && g.output) {
        if (g.completed_at !== null && g.completed_at > cutoff) {
          blocked = true;
          break;
        }
        // Delete first: a crash in between leaves a marked-later generation, never an orphan.
        for (const store of deps.stores) await store.remove(g.id);
        const next: GenerationRecord = {
          ...g,
          output: null,
          output_expired_at: nowMs,
          updated_at: nowMs,
        };
        const a = kv.atomic();
        addGenerationUpdate(a, e, next);
        if (!(await a.commit()).ok) {
          blocked = true; // changed meanwhile: looked at again next run
          break;
        }
        expired.push(g.id);
      } else if (!isTerminal(g)) {
        deps.log(`retention: generation ${g.id} is older than the retention and still ${g.status}`);
      }
      last = g.id;
    }
    if (last) await kv.set(cursorKey, last);
    if (blocked || seen < BATCH) break;
  }
  return expired;
}

/** The sweep's parts in the app: the configured store, plus the local disk when that is not it. */
export function retentionDeps(s: Services): RetentionDeps {
  const stores = [backendFor(s.config)];
  if (s.config.STORAGE !== "local") stores.push(localBackend(s.config.DATA_DIR));
  return {
    kv: s.kv,
    stores,
    retentionDays: s.config.VIDEO_RETENTION_DAYS,
    now: s.now,
    log: backgroundLog(s.log),
  };
}
