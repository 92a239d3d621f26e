import { kvCursor, type Page, pagedRead } from "./kv.ts";

/**
 * Background jobs in Deno KV (the runner is lib/jobs.ts). This module owns these key shapes:
 *   ["jobs", "job", type, id]                         -> JobRecord (one per type+id: duplicates merge)
 *   ["jobs", "due", lane, org, dueAtMs, type, id]     -> null (when the job is next looked at)
 *   ["jobs", "lease", type, id]                       -> JobLease (who runs it, until when)
 *   ["jobs", "dead", type, id]                        -> JobRecord (parked after its last attempt)
 *   ["jobs", "signal"]                                -> KvU64, bumped by every enqueue (kv.watch)
 * A claimed job's due entry is moved to its lease expiry, so if its process dies the job is due
 * again exactly when the lease lapses. Times are Unix milliseconds.
 */

export type JobLane = "work" | "webhooks";

export interface JobRecord {
  type: string;
  id: string;
  /** The partition the runner shares slots fairly across ("" when none). */
  org: string;
  lane: JobLane;
  due_at: number;
  /** Claims so far (a claim whose process died counts). */
  attempts: number;
  last_error: string | null;
  enqueued_at: number;
  /** The enqueuing span as a W3C traceparent, when tracing is on: the run's span links to it. */
  trace?: string;
  /** Set on a dead job: when it was parked. */
  failed_at?: number;
}

export interface JobLease {
  owner: string;
  until: number;
}

export const JOB_SIGNAL_KEY: Deno.KvKey = ["jobs", "signal"];
export const jobKey = (type: string, id: string): Deno.KvKey => ["jobs", "job", type, id];
export const leaseKey = (type: string, id: string): Deno.KvKey => ["jobs", "lease", type, id];
export const deadJobKey = (type: string, id: string): Deno.KvKey => ["jobs", "dead", type, id];
export const dueLanePrefix = (lane: JobLane): Deno.KvKey => ["jobs", "due", lane];
export const dueJobKey = (r: Pick<JobRecord, "lane" | "org" | "due_at" | "type" | "id">) =>
  ["jobs", "due", r.lane, r.org, r.due_at, r.type, r.id] as Deno.KvKey;

/** Webhook deliveries wait on other people's servers: they get slots of their own. */
export function laneOf(type: string): JobLane {
  return type.startsWith("webhook.") ? "webhooks" : "work";
}

/** A due index entry, decoded. */
export interface DueEntry {
  key: Deno.KvKey;
  org: string;
  dueAt: number;
  type: string;
  id: string;
}

export function decodeDueKey(key: Deno.KvKey): DueEntry {
  const [, , , org, dueAt, type, id] = key;
  return {
    key,
    org: org as string,
    dueAt: dueAt as number,
    type: type as string,
    id: id as string,
  };
}

/** The mutations of an enqueue: the record, its due entry and a bump of the watched signal. */
export function addJobMutations(a: Deno.AtomicOperation, r: JobRecord): Deno.AtomicOperation {
  return a.set(jobKey(r.type, r.id), r).set(dueJobKey(r), null).sum(JOB_SIGNAL_KEY, 1n);
}

/**
 * Up to `limit` due entries of a lane, starting at org `fromOrg` (inclusive) in key order. The
 * runner skips from org to org so one org's backlog never hides another's jobs.
 */
export async function listDueEntries(
  kv: Deno.Kv,
  lane: JobLane,
  fromOrg: string | null,
  limit: number,
): Promise<DueEntry[]> {
  const prefix = dueLanePrefix(lane);
  const selector = fromOrg === null ? { prefix } : { prefix, start: [...prefix, fromOrg] };
  const out: DueEntry[] = [];
  for await (const e of kv.list<null>(selector, { limit })) out.push(decodeDueKey(e.key));
  return out;
}

/** The first org key after every entry of `org` (strings sort bytewise; "\0" is the least). */
export const afterOrg = (org: string) => `${org}\0`;

export async function getDeadJob(kv: Deno.Kv, type: string, id: string) {
  return await kv.get<JobRecord>(deadJobKey(type, id));
}

/** Dead jobs (or pending ones), in key order, a page at a time. */
export async function listJobs(
  kv: Deno.Kv,
  state: "dead" | "pending",
  opts: { limit: number; cursor?: string },
): Promise<Page<JobRecord>> {
  const cursor = kvCursor(opts.cursor);
  const prefix = ["jobs", state === "dead" ? "dead" : "job"];
  return await pagedRead(cursor, async () => {
    const it = kv.list<JobRecord>({ prefix }, { limit: opts.limit, cursor });
    const data: JobRecord[] = [];
    for await (const e of it) data.push(e.value);
    return { data, next_cursor: data.length === opts.limit && it.cursor ? it.cursor : null };
  });
}

/**
 * Puts a dead job back to run now with its attempts reset. False when there is no such dead job
 * (or a racing retry took it).
 */
export async function retryDeadJob(
  kv: Deno.Kv,
  type: string,
  id: string,
  nowMs: number,
): Promise<boolean> {
  const dead = await getDeadJob(kv, type, id);
  if (!dead.value) return false;
  const { failed_at: _, ...rest } = dead.value;
  const a = kv.atomic().check(dead).delete(dead.key);
  addJobMutations(a, { ...rest, attempts: 0, due_at: nowMs, enqueued_at: nowMs });
  return (await a.commit()).ok;
}

/** A job as the admin API shows it (times in Unix seconds). */
export function toApiJob(r: JobRecord, state: "dead" | "pending") {
  const sec = (ms: number | undefined) => ms === undefined ? null : Math.floor(ms / 1000);
  return {
    type: r.type,
    id: r.id,
    org_id: r.org || null,
    state,
    attempts: r.attempts,
    last_error: r.last_error,
    enqueued_at: sec(r.enqueued_at),
    due_at: state === "pending" ? sec(r.due_at) : null,
    failed_at: sec(r.failed_at),
  };
}
