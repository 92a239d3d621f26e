/**
 * Background jobs (DESIGN.md, "Generation lifecycle"): one small interface, implemented on KV
 * queues. Payloads are ids only; delivery is at least once, so every handler must be idempotent.
 * This is the only module that touches queues, so a lease table can replace it later.
 */

export interface Job {
  type: string;
  id: string;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface JobQueue {
  enqueue(job: Job, opts?: { delayMs?: number }): Promise<void>;
  /** Runs handlers until the KV closes; resolves then. */
  listen(handlers: Record<string, JobHandler>): Promise<void>;
}

/** Backoff between redeliveries when a handler throws (KV's own retry of a message). */
const RETRY_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000];

/** Adds an enqueue to an atomic op so a job exists exactly when the state change commits. */
export function enqueueInAtomic(
  atomic: Deno.AtomicOperation,
  job: Job,
  opts: { delayMs?: number } = {},
): Deno.AtomicOperation {
  return atomic.enqueue(
    { type: job.type, id: job.id },
    { delay: Math.max(0, Math.round(opts.delayMs ?? 0)), backoffSchedule: RETRY_BACKOFF_MS },
  );
}

/**
 * What a minute cron does (DESIGN.md: cron only enqueues): one job of `type`, named by its minute.
 * KV queues keep duplicates with the same id, so the job itself collapses them (withLease).
 */
export async function enqueueMinuteJob(kv: Deno.Kv, type: string, nowMs: number): Promise<void> {
  const job = { type, id: `minute-${Math.floor(nowMs / 60_000)}` };
  const res = await enqueueInAtomic(kv.atomic(), job).commit();
  if (!res.ok) throw new Error(`could not enqueue ${job.type} ${job.id}`);
}

function isJob(value: unknown): value is Job {
  return typeof value === "object" && value !== null &&
    typeof (value as Job).type === "string" && typeof (value as Job).id === "string";
}

/** Runs at most `limit` tasks at once; the rest wait their turn in arrival order. */
export function createLimiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * KV queues deliver messages without a bound on concurrency; a burst of accepted generations
 * would otherwise run hundreds of provider calls (or ffmpeg renders) at once and starve the API
 * on the same process. Messages beyond the limit wait, unacknowledged, for a slot.
 */
export const DEFAULT_JOB_CONCURRENCY = 4;

export function createKvJobQueue(
  kv: Deno.Kv,
  log: (msg: string, err?: unknown) => void = (m, e) => console.error(m, e ?? ""),
  opts: { concurrency?: number } = {},
): JobQueue {
  const limited = createLimiter(opts.concurrency ?? DEFAULT_JOB_CONCURRENCY);
  return {
    async enqueue(job, opts = {}) {
      const res = await enqueueInAtomic(kv.atomic(), job, opts).commit();
      if (!res.ok) throw new Error(`could not enqueue ${job.type} ${job.id}`);
    },
    listen(handlers) {
      return kv.listenQueue(async (msg: unknown) => {
        if (!isJob(msg)) return log(`dropping malformed job ${JSON.stringify(msg)}`);
        const handler = handlers[msg.type];
        if (!handler) return log(`no handler for job ${msg.type} ${msg.id}`);
        try {
          await limited(() => handler(msg));
        } catch (err) {
          log(`job ${msg.type} ${msg.id} failed; it will be redelivered`, err);
          throw err;
        }
      });
    },
  };
}
