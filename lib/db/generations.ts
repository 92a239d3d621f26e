import { badCursor, kvCursor } from "./kv.ts";
import type { Cents } from "../catalog/money.ts";
import type { FailureCode, ProviderId, ReportedUsage } from "../providers/types.ts";
import { NotFound } from "../errors.ts";
import { idAt, isId } from "../ids.ts";
import type { Page } from "./ledger.ts";

/** What is stored on the generation: the provider's figures and, where priced, their cents. */
export type UpstreamReported = ReportedUsage & { cost_cents?: number };

/** Generation records and their indexes. Every index is written in the same commit as the record. */

export type GenerationStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";
export const TERMINAL: ReadonlySet<GenerationStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
]);

/** One model + route the generation may run on, priced when it was created. */
export interface Candidate {
  model: string;
  provider: ProviderId;
  upstream_model: string;
  price_cents: Cents;
}

export interface Attempt {
  model: string;
  provider: ProviderId;
  upstream_job_id: string | null;
  started_at: number; // ms
  ended_at: number | null;
  error: string | null;
}

/** The validated request options, resolved with the first model's defaults. */
export interface GenerationOptions {
  prompt: string;
  duration: number;
  resolution: string;
  aspect_ratio: string;
  image_url?: string;
  negative_prompt?: string;
  seed?: number;
  audio?: boolean;
  /** The caller let the provider rewrite the prompt (enhance_prompt); otherwise it never does. */
  enhance_prompt?: true;
  /** The aspect ratio is the model's default, not the caller's: image-to-video follows the image. */
  aspect_ratio_default?: true;
}

export interface GenerationRecord {
  id: string;
  org_id: string;
  api_key_id: string | null;
  status: GenerationStatus;
  /** The model of the current candidate (the one that ran, once terminal). */
  model: string;
  options: GenerationOptions;
  candidates: Candidate[];
  attempt: number;
  attempts: Attempt[];
  /** Charged at creation: the most expensive candidate; settled on completion. */
  charged_cents: Cents;
  /** Final charge once terminal (0 when failed or cancelled). */
  cost_cents: Cents | null;
  refunded_cents: Cents;
  /**
   * Set when the charge was added to the key's and budget's spend counters; a refund gives
   * allowance back only then (generations charged before the counters existed have none).
   */
  spend_counted?: true;
  provider_job_id: string | null;
  /** Set while a worker is inside adapter.submit, so a duplicate delivery does not submit twice. */
  submit_claimed_at: number | null;
  /** Bumped whenever a new poll is scheduled; a delivery from an older schedule is dropped. */
  tick: number;
  poll_count: number;
  next_check_at: number | null;
  deadline_at: number;
  output: { stored: true; bytes?: number } | null;
  /** When the retention sweep deleted the stored video (output is null from then on). */
  output_expired_at?: number;
  latency_ms: number | null;
  error_message: string | null;
  /** Why it failed or was cancelled, machine-readable (API.md, "Failure reasons"). */
  error_code?: FailureCode;
  application_name: string | null;
  metadata: Record<string, string> | null;
  webhook_url: string | null;
  idempotency_key: string | null;
  created_at: number; // ms
  updated_at: number;
  completed_at: number | null;
  /** What the provider reported it charged or ran, when it did (cost reconciliation). */
  upstream_reported?: UpstreamReported;
  /** 0–100 as the provider last reported it while running, where it reports one. */
  progress?: number;
  /** Deleted through DELETE /v1/videos/{id}: its video is gone and that surface hides it. */
  deleted_at?: number;
}

export const GENERATIONS_PREFIX: Deno.KvKey = ["generations"];
export const generationKey = (id: string): Deno.KvKey => [...GENERATIONS_PREFIX, id];
export const orgGenerationKey = (orgId: string, id: string): Deno.KvKey => [
  "org_generations",
  orgId,
  id,
];
export const dueKey = (atMs: number, id: string): Deno.KvKey => ["gen_due", atMs, id];

export function isTerminal(g: Pick<GenerationRecord, "status">): boolean {
  return TERMINAL.has(g.status);
}

/**
 * Writes a new record with its indexes into an atomic op. Unchecked: ids are fresh ULIDs (80
 * random bits), which cannot collide, and a group commit has no checks to spare (denokv: 10).
 */
export function addNewGeneration(a: Deno.AtomicOperation, g: GenerationRecord) {
  a.set(generationKey(g.id), g)
    .set(orgGenerationKey(g.org_id, g.id), g.id);
  if (g.next_check_at !== null) a.set(dueKey(g.next_check_at, g.id), g.id);
}

/** Writes `next` over `prev` (checked) and moves the due index with it. */
export function addGenerationUpdate(
  a: Deno.AtomicOperation,
  prev: Deno.KvEntry<GenerationRecord>,
  next: GenerationRecord,
) {
  a.check(prev).set(generationKey(next.id), next);
  if (prev.value.next_check_at !== next.next_check_at) {
    if (prev.value.next_check_at !== null) a.delete(dueKey(prev.value.next_check_at, next.id));
    if (next.next_check_at !== null) a.set(dueKey(next.next_check_at, next.id), next.id);
  }
}

export async function loadGeneration(
  kv: Deno.Kv,
  id: string,
): Promise<Deno.KvEntry<GenerationRecord> | null> {
  // An id from a URL may be anything; an over-long one would be a KV error, not a miss.
  if (!isId("gen", id)) return null;
  const e = await kv.get<GenerationRecord>(generationKey(id));
  return e.value === null ? null : e as Deno.KvEntry<GenerationRecord>;
}

/** An org's generation; another org's id is NotFound, never Forbidden. */
export async function getGeneration(
  kv: Deno.Kv,
  orgId: string,
  id: string,
  /** The record when the caller already read it (the poll path reads it with the API key). */
  known?: Deno.KvEntryMaybe<GenerationRecord>,
): Promise<GenerationRecord> {
  const e = known?.value ? known : await loadGeneration(kv, id);
  if (!e?.value || e.value.id !== id || e.value.org_id !== orgId) {
    throw new NotFound(
      isId("gen", id) ? `No generation ${id}` : "No generation with this id",
      "id",
    );
  }
  return e.value;
}

/**
 * Index entries one page may read. With a filter that matches little, a page stops here (with
 * fewer records, possibly none) and its next_cursor continues the scan, so one request never
 * walks an org's whole history.
 */
export const LIST_SCAN_CAP = 500;
/** KV's getMany reads at most 10 keys. */
const READ_BATCH = 10;

/** Ids of the org's generations created in [fromMs, toMs), oldest first, at most `limit`. */
export async function listOrgGenerationIdsBetween(
  kv: Deno.Kv,
  orgId: string,
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  const iter = kv.list<string>({
    start: orgGenerationKey(orgId, idAt("gen", fromMs)),
    end: orgGenerationKey(orgId, idAt("gen", toMs)),
  }, { limit });
  for await (const e of iter) ids.push(e.value);
  return ids;
}

/** Newest first; status/model filters skip non-matching records within the scan. */
export async function listGenerations(
  kv: Deno.Kv,
  orgId: string,
  opts: { limit?: number; cursor?: string; status?: GenerationStatus; model?: string } = {},
): Promise<Page<GenerationRecord>> {
  const limit = Math.min(Math.max(opts.limit ?? 20, 1), 100);
  const cursor = kvCursor(opts.cursor);
  const iter = kv.list<string>({ prefix: ["org_generations", orgId] }, {
    reverse: true,
    cursor,
    batchSize: Math.min(LIST_SCAN_CAP, Math.max(limit, READ_BATCH) + 1),
  });
  // Index entries read but not yet judged, each with the cursor that resumes right after it.
  const ahead: { id: string; cursor: string }[] = [];
  let exhausted = false;
  const readAhead = async (n: number) => {
    try {
      while (ahead.length < n && !exhausted) {
        const r = await iter.next();
        if (r.done) exhausted = true;
        else ahead.push({ id: r.value.value, cursor: iter.cursor });
      }
    } catch (err) {
      // KV refuses a base64 string that does not decode to a position in this list.
      if (cursor !== undefined && err instanceof TypeError && /cursor/i.test(err.message)) {
        throw badCursor();
      }
      throw err;
    }
  };

  const data: GenerationRecord[] = [];
  let scanned = 0;
  let lastCursor: string | null = null;
  while (data.length < limit && scanned < LIST_SCAN_CAP) {
    await readAhead(Math.min(READ_BATCH, LIST_SCAN_CAP - scanned));
    if (ahead.length === 0) break;
    const batch = ahead.splice(0, Math.min(READ_BATCH, LIST_SCAN_CAP - scanned));
    const recs = await kv.getMany<GenerationRecord[]>(batch.map((e) => generationKey(e.id)));
    let i = 0;
    for (; i < batch.length && data.length < limit; i++) {
      scanned++;
      lastCursor = batch[i].cursor;
      const rec = recs[i].value;
      if (!rec) continue;
      if (opts.status && rec.status !== opts.status) continue;
      if (opts.model && rec.model !== opts.model) continue;
      data.push(rec);
    }
    // Entries past the page's last record are judged by the next page (its cursor starts here).
    ahead.unshift(...batch.slice(i));
  }
  await readAhead(1);
  return { data, next_cursor: ahead.length > 0 ? lastCursor : null };
}

/**
 * The newest generations of every organization (the operator console), filtered by status, model
 * and provider (the route that served it or is serving it), scanning at most LIST_SCAN_CAP.
 */
export async function listRecentGenerations(
  kv: Deno.Kv,
  opts: { limit: number; status?: GenerationStatus; model?: string; provider?: string },
): Promise<GenerationRecord[]> {
  const out: GenerationRecord[] = [];
  const it = kv.list<GenerationRecord>({ prefix: GENERATIONS_PREFIX }, {
    reverse: true,
    limit: LIST_SCAN_CAP,
  });
  for await (const { value: g } of it) {
    if (opts.status && g.status !== opts.status) continue;
    if (opts.model && g.model !== opts.model) continue;
    if (opts.provider && g.candidates[g.attempt]?.provider !== opts.provider) continue;
    out.push(g);
    if (out.length >= opts.limit) break;
  }
  return out;
}

/** KV's list cursors are base64; anything else would reach KV as a decoding error. */

/** Generations whose next check is at or before `untilMs`, oldest first. */
export async function listDue(
  kv: Deno.Kv,
  untilMs: number,
  limit = 500,
): Promise<{ atMs: number; id: string }[]> {
  const out: { atMs: number; id: string }[] = [];
  for await (
    const e of kv.list<string>({ start: ["gen_due"], end: ["gen_due", untilMs + 1] }, { limit })
  ) {
    out.push({ atMs: e.key[1] as number, id: e.value });
  }
  return out;
}

/** The generation sweep's lease (withLease in ./kv.ts): one sweep at a time. */
export const SWEEP_LEASE_KEY: Deno.KvKey = ["gen_sweep_lease"];

/**
 * An org's generations in id (creation) order after `after` (exclusive), newest first for
 * `desc`: the cursor pages of GET /v1/videos. Records read in getMany batches of 10 (denokv's
 * limit); deleted ones are left out, so a page may hold fewer than `limit`.
 */
export async function listGenerationsAfter(
  kv: Deno.Kv,
  orgId: string,
  opts: { after?: string; limit: number; order: "asc" | "desc" },
): Promise<{ data: GenerationRecord[]; hasMore: boolean }> {
  const prefix = ["org_generations", orgId];
  const at = opts.after === undefined ? null : orgGenerationKey(orgId, opts.after);
  const selector: Deno.KvListSelector = at === null
    ? { prefix }
    : opts.order === "desc"
    ? { prefix, end: at }
    : { prefix, start: at };
  const ids: string[] = [];
  for await (
    const e of kv.list<string>(selector, {
      reverse: opts.order === "desc",
      limit: opts.limit + 2,
    })
  ) {
    if (e.value !== opts.after) ids.push(e.value);
  }
  const page = ids.slice(0, opts.limit);
  const data: GenerationRecord[] = [];
  for (let i = 0; i < page.length; i += 10) {
    const recs = await kv.getMany<GenerationRecord[]>(
      page.slice(i, i + 10).map((id) => generationKey(id)),
    );
    for (const r of recs) if (r.value && !r.value.deleted_at) data.push(r.value);
  }
  return { data, hasMore: ids.length > opts.limit };
}

/** Marks a terminal generation deleted (checked against what was read); false on a race. */
export async function markGenerationDeleted(
  kv: Deno.Kv,
  entry: Deno.KvEntry<GenerationRecord>,
  nowMs: number,
): Promise<boolean> {
  const next: GenerationRecord = {
    ...entry.value,
    deleted_at: nowMs,
    ...(entry.value.output ? { output_expired_at: nowMs } : {}),
    updated_at: nowMs,
  };
  const a = kv.atomic();
  addGenerationUpdate(a, entry, next);
  return (await a.commit()).ok;
}

/** Marks an upstream job as recorded by a generation (value: its id). */
const upstreamJobKey = (provider: string, jobId: string) => ["upstream_job", provider, jobId];
/** Longer than any generation lives: an orphan search only looks minutes back. */
const UPSTREAM_JOB_TTL_MS = 2 * 24 * 3600_000;

/** In the commit that records `jobId` on generation `genId`: the job is known as ours. */
export function recordUpstreamJob(
  a: Deno.AtomicOperation,
  provider: string,
  jobId: string,
  genId: string,
): Deno.AtomicOperation {
  return a.set(upstreamJobKey(provider, jobId), genId, { expireIn: UPSTREAM_JOB_TTL_MS });
}

/**
 * Claims an upstream job found by an orphan search for generation `genId`, unless another
 * generation recorded it. Ours already (an earlier takeover adopted it and died in turn) counts
 * as claimed; `onFresh` adds to the commit of a first claim. True when the job is ours.
 */
export async function claimUpstreamJob(
  kv: Deno.Kv,
  provider: string,
  jobId: string,
  genId: string,
  onFresh: (a: Deno.AtomicOperation) => void,
): Promise<boolean> {
  const key = upstreamJobKey(provider, jobId);
  const held = await kv.get<string>(key);
  if (held.value !== null && held.value !== genId) return false;
  const a = kv.atomic().check(held).set(key, genId, { expireIn: UPSTREAM_JOB_TTL_MS });
  if (held.value === null) onFresh(a);
  return (await a.commit()).ok;
}
