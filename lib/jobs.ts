import {
  addJobMutations,
  afterOrg,
  deadJobKey,
  type DueEntry,
  dueJobKey,
  JOB_SIGNAL_KEY,
  jobKey,
  type JobLane,
  type JobLease,
  type JobRecord,
  laneOf,
  leaseKey,
  listDueEntries,
} from "./db/jobs.ts";
import { isKvClosed, retryBusy, withLease } from "./db/kv.ts";
import type { BackgroundLog } from "./http/log.ts";
import { randomToken } from "./crypto.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import { recordJobPickup } from "./telemetry/metrics.ts";
import { activeTraceParent, traceJobRun, tracingOn } from "./telemetry/traces.ts";

/**
 * Background jobs (DESIGN.md, "Generation lifecycle" and "Scale-out") on plain KV reads and
 * atomic writes, so any number of processes on one KV (a SQLite file, `:memory:`, a KV Connect
 * URL) share the work. Payloads are ids only; delivery is at least once (a lease can lapse
 * under a live but stalled process), so every handler must be idempotent.
 *
 *   enqueue ──(same commit as the state change)──▶ record + due entry + signal bump
 *   runner: scan due entries org by org ─▶ claim (checked commit: lease, due entry → lease end)
 *           ─▶ handler, lease renewed every lease/3 ─▶ done: delete │ threw: retry later │ dead
 *   wake-ups: this process's enqueue (direct), kv.watch on the signal (others'), a bounded poll
 */

export interface Job {
  type: string;
  id: string;
  /** Who the work is for: slots are shared fairly across orgs. */
  org?: string;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface JobQueue {
  enqueue(job: Job, opts?: { delayMs?: number }): Promise<void>;
  /** Runs handlers until the KV closes; resolves then. */
  listen(handlers: Record<string, JobHandler>): Promise<void>;
}

export interface RunnerOptions {
  /** Slots per lane (generation work; webhook deliveries have as many of their own). */
  concurrency?: number;
  /** How long a claim holds without renewal; a dead process's job runs elsewhere after it. */
  leaseMs?: number;
  /** The longest an idle runner waits before looking for due work it was not told about. */
  pollMs?: number;
  /** Delay before attempt n+1 after attempt n threw; the last value repeats. */
  backoffMs?: number[];
  /** Attempts before a job is parked as dead. */
  maxAttempts?: number;
}

export const DEFAULT_JOB_CONCURRENCY = 4;
const DEFAULTS: Required<RunnerOptions> = {
  concurrency: DEFAULT_JOB_CONCURRENCY,
  leaseMs: 30_000,
  pollMs: 1_000,
  backoffMs: [1_000, 5_000, 30_000, 120_000],
  maxAttempts: 5,
};
const LANES: JobLane[] = ["work", "webhooks"];
/** Entries read per list call, and org groups visited per scan (the rest wait for the next). */
const SCAN_BATCH = 16;
const MAX_LISTS_PER_SCAN = 8;

/** The job a handler is running, so jobs it enqueues inherit its org without saying so. */
const currentJob = new AsyncLocalStorage<Job>();

/**
 * Adds a job to an atomic op, so it exists exactly when the state change that owes it commits.
 * Without `job.org` it takes the org of the job running it (a poll enqueued by a submit).
 */
export function enqueueInAtomic(
  atomic: Deno.AtomicOperation,
  job: Job,
  opts: { delayMs?: number } = {},
): Deno.AtomicOperation {
  const now = Date.now();
  return addJobMutations(atomic, {
    type: job.type,
    id: job.id,
    org: job.org ?? currentJob.getStore()?.org ?? "",
    lane: laneOf(job.type),
    due_at: now + Math.max(0, Math.round(opts.delayMs ?? 0)),
    attempts: 0,
    last_error: null,
    enqueued_at: now,
    ...(tracingOn && { trace: activeTraceParent() }),
  });
}

/**
 * What a minute cron does (DESIGN.md: cron only enqueues): one job of `type`, named by its minute.
 * Firings of the same minute in several processes write the same record, so they merge.
 */
export async function enqueueMinuteJob(kv: Deno.Kv, type: string, nowMs: number): Promise<void> {
  const job = { type, id: `minute-${Math.floor(nowMs / 60_000)}` };
  const res = await retryBusy(() => enqueueInAtomic(kv.atomic(), job).commit());
  if (!res.ok) throw new Error(`could not enqueue ${job.type} ${job.id}`);
}

/** What a sweep's work needs: the KV, a clock and somewhere to say what went wrong. */
export interface SweepDeps {
  kv: Deno.Kv;
  now: () => number;
  log?: BackgroundLog;
}

/** A background sweep (defineSweep): its job type, one leased run, its handler and its cron. */
export interface Sweep<D extends SweepDeps, R> {
  readonly type: string;
  /** One run under the sweep's lease; null when another run holds it (a duplicate firing). */
  run(deps: D): Promise<R | null>;
  /** The sweep's job handler, for JobQueue.listen (lib/background.ts). */
  handlers(deps: D): Record<string, JobHandler>;
  /** Enqueues the sweep's job every minute (Deno.cron); a failure is logged, the next retries. */
  cron(deps: D): Promise<void>;
}

/**
 * The one way to define a sweep: a minute cron only enqueues a job named by its minute (firings
 * of several processes merge), and the job runs `sweep` under a KV lease, so duplicate jobs (a
 * late firing, a retry) collapse into one run. The lease (50 s by default) is shorter than the
 * minute, so the next minute's sweep runs; a sweep that throws gives it back, so a retry runs at
 * once. A job whose id `unleased` accepts runs without the lease (the start-up sweep).
 */
export function defineSweep<D extends SweepDeps, R>(spec: {
  /** The job type, also the cron's name. */
  type: string;
  leaseKey: Deno.KvKey;
  leaseMs?: number;
  sweep: (deps: D, nowMs: number) => Promise<R>;
  unleased?: (jobId: string) => boolean;
}): Sweep<D, R> {
  const leaseMs = spec.leaseMs ?? 50_000;
  const run = (deps: D) => {
    const nowMs = deps.now();
    return withLease(deps.kv, spec.leaseKey, nowMs, leaseMs, () => spec.sweep(deps, nowMs));
  };
  return {
    type: spec.type,
    run,
    handlers: (deps) => ({
      [spec.type]: async (job) => {
        if (spec.unleased?.(job.id)) await spec.sweep(deps, deps.now());
        else await run(deps);
      },
    }),
    // Cron names allow letters, digits, spaces, hyphens and underscores: not the type's dots.
    // Async, so a refused registration is a rejection to log, not a throw out of start-up.
    cron: async (deps) =>
      await Deno.cron(
        `pipevideo ${spec.type.replace(/[^A-Za-z0-9_ -]/g, "-")}`,
        "* * * * *",
        () =>
          enqueueMinuteJob(deps.kv, spec.type, deps.now()).catch((err) =>
            (deps.log ?? console.error)(`enqueueing ${spec.type} failed`, err)
          ),
      ),
  };
}

/** What one lane of this process runs now: per org, plus slots lent to orgs that had none. */
interface LaneSlots {
  total: number;
  guests: number;
  byOrg: Map<string, number>;
  /** Where the next scan starts, so orgs past one scan's reach are looked at the next time. */
  resumeOrg: string | null;
}

export function createKvJobQueue(
  kv: Deno.Kv,
  log: BackgroundLog = (m, e) => console.error(m, e ?? ""),
  options: RunnerOptions = {},
): JobQueue {
  const opts = { ...DEFAULTS, ...options };
  let wake = () => {};
  return {
    async enqueue(job, o = {}) {
      const res = await retryBusy(() => enqueueInAtomic(kv.atomic(), job, o).commit());
      if (!res.ok) throw new Error(`could not enqueue ${job.type} ${job.id}`);
      wake();
    },
    listen(handlers) {
      const runner = runJobs(kv, handlers, log, opts);
      wake = runner.wake;
      return runner.done;
    },
  };
}

/**
 * The runner loop of one process. Slots per lane are `concurrency`; when they are all taken, a
 * due job of an org holding none of them may borrow one (at most `concurrency` borrowed), so one
 * org's slow work never makes another org wait for a slot, and concurrency stays bounded.
 */
function runJobs(
  kv: Deno.Kv,
  handlers: Record<string, JobHandler>,
  log: BackgroundLog,
  opts: Required<RunnerOptions>,
): { wake: () => void; done: Promise<void> } {
  const owner = randomToken(8);
  log(`job runner ${owner} started`);
  const lanes = new Map<JobLane, LaneSlots>(
    LANES.map((l) => [l, { total: 0, guests: 0, byOrg: new Map(), resumeOrg: null }]),
  );
  let closed = false;
  let dirty = false;
  let sleeping: (() => void) | null = null;
  const wake = () => {
    dirty = true;
    sleeping?.();
  };

  // Other processes' enqueues bump the signal; on a shared KV server watch reports it at once.
  // A watch that ends or fails while the KV is open is started again (polling covers the gap).
  const watching = (async () => {
    while (!closed) {
      try {
        for await (const _ of kv.watch([JOB_SIGNAL_KEY])) wake();
      } catch (err) {
        if (isKvClosed(err)) break;
        log("job signal watch failed; polling until it is back", err);
      }
      if (!closed) await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  })();

  function hasRoom(s: LaneSlots) {
    return s.total < opts.concurrency || s.guests < opts.concurrency;
  }

  /** A job of `org` may start: a free slot, or a borrowed one when the org holds no slot. */
  function slotFor(s: LaneSlots, org: string): "own" | "guest" | null {
    const held = s.byOrg.get(org) ?? 0;
    if (s.total - s.guests < opts.concurrency) return "own";
    if (held === 0 && s.guests < opts.concurrency) return "guest";
    return null;
  }

  /** Due entries of a lane, grouped by org; and when the earliest not-yet-due entry falls. */
  async function scanLane(lane: JobLane, s: LaneSlots, now: number) {
    const byOrg = new Map<string, DueEntry[]>();
    let nextAt = Infinity;
    let from = s.resumeOrg;
    let wrapped = from === null;
    for (let i = 0; i < MAX_LISTS_PER_SCAN; i++) {
      const batch = await listDueEntries(kv, lane, from, SCAN_BATCH);
      for (const e of batch) {
        if (e.dueAt > now) nextAt = Math.min(nextAt, e.dueAt);
        else if (!byOrg.has(e.org) || byOrg.get(e.org)!.length < opts.concurrency) {
          byOrg.set(e.org, [...(byOrg.get(e.org) ?? []), e]);
        }
      }
      if (batch.length === SCAN_BATCH) {
        from = afterOrg(batch[batch.length - 1].org);
        continue;
      }
      if (wrapped) {
        from = null;
        break;
      }
      wrapped = true;
      from = null;
    }
    s.resumeOrg = from;
    return { byOrg, nextAt };
  }

  /** Claims and starts due jobs, the org with the fewest running first, while slots allow. */
  async function fillLane(lane: JobLane, s: LaneSlots): Promise<number> {
    const now = Date.now();
    const { byOrg, nextAt } = await scanLane(lane, s, now);
    for (;;) {
      const orgs = [...byOrg.keys()].filter((o) => byOrg.get(o)!.length && slotFor(s, o));
      if (!orgs.length) break;
      orgs.sort((a, b) => (s.byOrg.get(a) ?? 0) - (s.byOrg.get(b) ?? 0));
      const org = orgs[0];
      // Not always the oldest: runners in other processes scan the same entries, and picking
      // among the first few spares most of the lost claim races.
      const due = byOrg.get(org)!;
      const [entry] = due.splice(Math.floor(Math.random() * Math.min(due.length, 4)), 1);
      const claimed = await claim(entry, now);
      if (claimed) start(s, claimed, slotFor(s, org) === "guest");
    }
    return nextAt;
  }

  interface Claim {
    record: JobRecord;
    recordVs: string;
    leaseVs: string;
  }

  /**
   * One checked commit takes the job: the lease, the attempt count, and its due entry moved to
   * the lease end. Null when another process won, the entry is stale, or the job was parked.
   */
  async function claim(e: DueEntry, now: number): Promise<Claim | null> {
    const [rec, lease] = await kv.getMany<[JobRecord, JobLease]>([
      jobKey(e.type, e.id),
      leaseKey(e.type, e.id),
    ]);
    const r = rec.value;
    const a = kv.atomic().check(rec, lease);
    if (!r || dueJobKey(r).join("\u0001") !== e.key.join("\u0001")) {
      // Left behind when the record moved on (a re-enqueue, a completion).
      await a.delete(e.key).commit();
      return null;
    }
    if (lease.value && lease.value.until > now) {
      // Re-enqueued while it runs: look again when the running attempt's lease ends.
      const next = { ...r, due_at: lease.value.until };
      await a.delete(e.key).set(rec.key, next).set(dueJobKey(next), null).commit();
      return null;
    }
    if (r.attempts >= opts.maxAttempts) {
      await park(a.delete(e.key).delete(rec.key), r, r.last_error ?? "lease lapsed", now).commit();
      log(
        `job ${r.type} ${r.id} is dead after ${r.attempts} attempts`,
        new Error(r.last_error ?? ""),
      );
      return null;
    }
    const until = now + opts.leaseMs;
    const next: JobRecord = { ...r, attempts: r.attempts + 1, due_at: until };
    const res = await a.delete(e.key).set(rec.key, next).set(dueJobKey(next), null)
      .set(lease.key, { owner, until } satisfies JobLease).commit();
    if (!res.ok) return null;
    recordJobPickup((now - r.due_at) / 1000);
    return { record: next, recordVs: res.versionstamp, leaseVs: res.versionstamp };
  }

  function park(a: Deno.AtomicOperation, r: JobRecord, error: string, now: number) {
    return a.set(deadJobKey(r.type, r.id), { ...r, last_error: error, failed_at: now });
  }

  function start(s: LaneSlots, c: Claim, guest: boolean) {
    const org = c.record.org;
    s.total++;
    if (guest) s.guests++;
    s.byOrg.set(org, (s.byOrg.get(org) ?? 0) + 1);
    runClaimed(c).finally(() => {
      s.total--;
      if (guest) s.guests--;
      const n = (s.byOrg.get(org) ?? 1) - 1;
      if (n) s.byOrg.set(org, n);
      else s.byOrg.delete(org);
      wake();
    });
  }

  async function runClaimed(c: Claim) {
    const { type, id, org } = c.record;
    const lKey = leaseKey(type, id);
    let leaseVs = c.leaseVs;
    let lost = false;
    let renewing = Promise.resolve();
    const renew = async () => {
      try {
        const res = await kv.atomic().check({ key: lKey, versionstamp: leaseVs })
          .set(lKey, { owner, until: Date.now() + opts.leaseMs } satisfies JobLease).commit();
        if (res.ok) leaseVs = res.versionstamp;
        else if (!lost) {
          lost = true;
          log(`job ${type} ${id}: lease lost while running`, new Error("taken over after a stall"));
        }
      } catch (err) {
        if (!isKvClosed(err)) log(`job ${type} ${id}: lease renewal failed`, err);
      }
    };
    // The heartbeat: a live process keeps long work; a dead one stops renewing and loses it.
    const beat = setInterval(() => {
      renewing = renewing.then(renew);
    }, Math.max(10, Math.floor(opts.leaseMs / 3)));
    let error: string | null = null;
    try {
      const handler = handlers[type];
      if (!handler) throw new Error(`no handler for job type ${type}`);
      const job = { type, id, ...(org ? { org } : {}) };
      await traceJobRun(job, c.record.trace, () => currentJob.run(job, () => handler(job)));
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      if (!closed && !isKvClosed(err)) {
        log(`job ${type} ${id} failed (attempt ${c.record.attempts})`, err);
      }
    } finally {
      clearInterval(beat);
      await renewing;
    }
    try {
      // A re-enqueue racing the outcome commit fails its check: read again and redo. Locked by
      // other processes, it keeps trying for about 10 s, well inside the 30 s lease.
      for (let i = 0; i < 5 && !await retryBusy(() => finish(c, leaseVs, error), 11); i++);
    } catch (err) {
      // The lease lapses and the job runs again: at least once, never lost.
      if (!isKvClosed(err)) log(`job ${type} ${id}: could not record its outcome`, err);
    }
  }

  /**
   * Ends an attempt: done (delete), failed (due again after backoff), or failed for good (dead).
   * Most attempts end as they began (nobody re-enqueued the job or took its lease), so the outcome
   * is first committed blind, checked against the versions the claim and the last renewal wrote;
   * only when that check fails are the record and lease read to see what changed.
   */
  async function finish(c: Claim, leaseVs: string, error: string | null): Promise<boolean> {
    const r = c.record;
    const rKey = jobKey(r.type, r.id);
    const lKey = leaseKey(r.type, r.id);
    const unchanged = kv.atomic()
      .check({ key: rKey, versionstamp: c.recordVs }, { key: lKey, versionstamp: leaseVs })
      .delete(lKey);
    if ((await recordOutcome(unchanged, r, error).commit()).ok) return outcomeCommitted(r, error);

    const [rec, lease] = await kv.getMany<[JobRecord, JobLease]>([rKey, lKey]);
    if (lease.versionstamp !== leaseVs) return true; // taken over: the new holder decides
    const a = kv.atomic().check(rec, lease).delete(lease.key);
    if (rec.versionstamp === c.recordVs) {
      return (await recordOutcome(a, r, error).commit()).ok && outcomeCommitted(r, error);
    }
    // Enqueued again while running: that newer job stands; drop only our attempt's entry.
    if (!rec.value || dueJobKey(rec.value).join("\u0001") !== dueJobKey(r).join("\u0001")) {
      a.delete(dueJobKey(r));
    }
    return (await a.commit()).ok;
  }

  /** The outcome's writes, when the record is still the one this attempt claimed. */
  function recordOutcome(a: Deno.AtomicOperation, r: JobRecord, error: string | null) {
    a.delete(dueJobKey(r));
    if (error === null) return a.delete(jobKey(r.type, r.id));
    if (r.attempts >= opts.maxAttempts) {
      return park(a.delete(jobKey(r.type, r.id)), r, error, Date.now());
    }
    const backoff = opts.backoffMs[Math.min(r.attempts, opts.backoffMs.length) - 1] ?? 0;
    const next = { ...r, due_at: Date.now() + backoff, last_error: error };
    return a.set(jobKey(r.type, r.id), next).set(dueJobKey(next), null);
  }

  function outcomeCommitted(r: JobRecord, error: string | null): true {
    if (error !== null && r.attempts >= opts.maxAttempts) {
      log(`job ${r.type} ${r.id} is dead after ${r.attempts} attempts`, new Error(error));
    }
    return true;
  }

  const done = (async () => {
    while (!closed) {
      dirty = false;
      let nextAt = Date.now() + opts.pollMs;
      try {
        for (const lane of LANES) {
          const s = lanes.get(lane)!;
          if (hasRoom(s)) nextAt = Math.min(nextAt, await fillLane(lane, s));
        }
      } catch (err) {
        if (isKvClosed(err)) break;
        log("job runner: scan failed; retrying", err);
      }
      if (dirty || closed) continue;
      const waitMs = Math.max(0, nextAt - Date.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          sleeping = null;
          resolve();
        }, waitMs);
        sleeping = () => {
          clearTimeout(timer);
          sleeping = null;
          resolve();
        };
      });
    }
    closed = true;
    await watching;
  })();
  return { wake, done };
}
