import type { Cents } from "../catalog/money.ts";
import { AppError, InsufficientCredits } from "../errors.ts";
import { newId } from "../ids.ts";
import {
  addDebitsMutations,
  balanceKey,
  balanceOf,
  type Debit,
  serializeForOrg,
} from "../db/ledger.ts";
import { addNewGeneration, generationKey, type GenerationRecord } from "../db/generations.ts";
import {
  addIdempotencyRecord,
  idempotencyKey,
  type IdempotencyRecord,
  judgeIdempotency,
} from "../db/idempotency.ts";
import { addRequestUsage } from "../db/usage.ts";
import { enqueueInAtomic } from "../jobs.ts";
import { readSpendGuard } from "../spend/guard.ts";
import { addBalanceCrossings } from "../spend/crossing.ts";

/**
 * Group commit of submissions per organization (DESIGN.md, "Money"). Debits of one org must not
 * race each other on the balance key, and one commit per request is the limit under load: so the
 * submissions of an org that arrive while a commit is in flight wait here, and the next flush
 * writes up to MAX_BATCH of them in ONE atomic commit: one check of the balance entry, the
 * balance set to (balance − sum of accepted costs), and for each accepted submission exactly what
 * a lone one writes (charge ledger entry, generation record and indexes, usage counter,
 * idempotency record, submit job).
 *
 * Submissions are judged in arrival order against the running balance, key spend and monthly
 * budget (lib/spend/guard.ts), exactly as if they had been committed one by one: one that does
 * not fit is refused (KeyLimitExceeded, BudgetExceeded, InsufficientCredits) and writes nothing,
 * and a later, cheaper one may still fit. The spend counters, and the records of a balance
 * threshold crossed (lib/spend/crossing.ts), move in the same commit. A conflicting commit
 * (another process moved the balance or a limited counter, or claimed an idempotency key)
 * re-reads and retries the whole batch. Each promise settles only once its batch's commit has
 * landed (or it was refused or replayed).
 */

/** The submission answer, as createGeneration returns it. */
export interface CreatedGeneration {
  id: string;
  status: "pending";
  created_at: number; // seconds
}

/** One validated, priced submission waiting for its commit. */
export interface Submission {
  cost: Cents;
  /** The API key it came with (its spend limit applies), or null. */
  apiKeyId: string | null;
  /** With `bodyHash`, the Idempotency-Key of the request; null without one. */
  idempotencyKey: string | null;
  bodyHash: string;
  /** The charge's ledger reason. */
  reason: string;
  /** Upper bound of the bytes this submission adds to a commit (see submissionBytes). */
  bytes: number;
  /** The generation record for the id and time of the commit that writes it. */
  build(id: string, nowMs: number): GenerationRecord;
}

export interface BatchTuning {
  /** At most this many submissions per commit (default MAX_BATCH). */
  maxBatch?: number;
  /** Called after a batch's reads, before its commit: tests hold a batch or move the balance. */
  beforeCommit?: (batch: { attempt: number; size: number }) => Promise<void> | void;
}

export interface BatchDeps {
  kv: Deno.Kv;
  now: () => number;
  submitBatch?: BatchTuning;
}

/**
 * Deno KV allows 100 checks per atomic op; a submission needs up to two (its new generation key
 * and its idempotency key), a distinct API key one (its limited spend counter) and the batch four
 * (the balance, the monthly budget, two crossing records): takeBatch counts them, so 48 is the
 * hard ceiling. 25 keeps a batch near 250 of the 1000 mutations allowed and the commit short.
 */
export const MAX_BATCH = 25;
/** Deno KV allows 800 KiB of keys and values per atomic op; stay well inside it. */
export const MAX_BATCH_BYTES = 512 * 1024;
const MAX_TRIES = 50;
/** Deno KV's checks per atomic op. */
const MAX_CHECKS = 100;

/** A generous bound of what a submission writes: every string may take 2 bytes a character. */
export function submissionBytes(record: GenerationRecord): number {
  return 2 * JSON.stringify(record).length + 2048;
}

interface Waiting {
  s: Submission;
  deps: BatchDeps;
  resolve: (g: CreatedGeneration) => void;
  reject: (err: unknown) => void;
}

interface OrgQueue {
  waiting: Waiting[];
  draining: boolean;
}

const queues = new WeakMap<Deno.Kv, Map<string, OrgQueue>>();

/** Queues a submission for the org's next group commit; settles once it has been decided. */
export function submitCharged(
  deps: BatchDeps,
  orgId: string,
  s: Submission,
): Promise<CreatedGeneration> {
  let byOrg = queues.get(deps.kv);
  if (!byOrg) queues.set(deps.kv, byOrg = new Map());
  let q = byOrg.get(orgId);
  if (!q) byOrg.set(orgId, q = { waiting: [], draining: false });
  const promise = new Promise<CreatedGeneration>((resolve, reject) => {
    q.waiting.push({ s, deps, resolve, reject });
  });
  if (!q.draining) {
    q.draining = true;
    // Started in a microtask so submissions queued in the same tick share the first commit.
    queueMicrotask(() => drain(deps.kv, orgId, q, byOrg));
  }
  return promise;
}

/** How many submissions of the org wait for a commit (not counting the one in flight). */
export function waitingFor(kv: Deno.Kv, orgId: string): number {
  return queues.get(kv)?.get(orgId)?.waiting.length ?? 0;
}

async function drain(kv: Deno.Kv, orgId: string, q: OrgQueue, byOrg: Map<string, OrgQueue>) {
  while (q.waiting.length > 0) {
    const batch = takeBatch(q.waiting);
    // Serialized with the org's other debits in this process (debitOrg, billing).
    await serializeForOrg(kv, orgId, () => commitOrSplit(orgId, batch));
  }
  q.draining = false;
  byOrg.delete(orgId);
}

/**
 * The longest prefix of the queue that fits one commit. It stops before a second use of an
 * Idempotency-Key, so that one is judged next batch against the first one's committed record
 * (replay or conflict), exactly as if they had come one after another.
 */
function takeBatch(waiting: Waiting[]): Waiting[] {
  const max = Math.max(1, Math.min(waiting[0].deps.submitBatch?.maxBatch ?? MAX_BATCH, 48));
  const keys = new Set<string>();
  const apiKeys = new Set<string>();
  let bytes = 0;
  let checks = 4; // the balance, the monthly budget, and two crossing records (spend/crossing.ts)
  let n = 0;
  for (; n < waiting.length && n < max; n++) {
    const s = waiting[n].s;
    if (n > 0 && bytes + s.bytes > MAX_BATCH_BYTES) break;
    // Its generation key, its Idempotency-Key, its API key's limited spend counter.
    const more = 1 + (s.idempotencyKey === null ? 0 : 1) +
      (s.apiKeyId === null || apiKeys.has(s.apiKeyId) ? 0 : 1);
    if (checks + more > MAX_CHECKS) break;
    if (s.idempotencyKey !== null) {
      if (keys.has(s.idempotencyKey)) break;
      keys.add(s.idempotencyKey);
    }
    if (s.apiKeyId !== null) apiKeys.add(s.apiKeyId);
    checks += more;
    bytes += s.bytes;
  }
  return waiting.splice(0, n);
}

/**
 * Answered when a batch cannot be written for now: other processes keep winning the balance, or
 * a commit's outcome could not be learned. Retrying with the same Idempotency-Key is safe.
 */
export class ChargeUnavailable extends AppError {
  constructor(message: string) {
    super(503, "api_error", "charge_unavailable", message, null, { "Retry-After": "1" });
  }
}

/**
 * Commits a batch; if the commit itself throws (e.g. a KV limit the size estimate missed), each
 * submission is retried on its own. Not on contention or an unknown outcome: splitting would
 * hold the org longer, or could charge a batch that did land a second time.
 */
async function commitOrSplit(orgId: string, batch: Waiting[]) {
  try {
    settle(batch, await commitBatch(orgId, batch));
  } catch (err) {
    if (batch.length === 1 || err instanceof ChargeUnavailable) {
      return batch.forEach((w) => w.reject(err));
    }
    for (const w of batch) {
      try {
        settle([w], await commitBatch(orgId, [w]));
      } catch (e) {
        w.reject(e);
      }
    }
  }
}

type Outcome = { ok: true; value: CreatedGeneration } | { ok: false; error: unknown };

function settle(batch: Waiting[], outcomes: Outcome[]) {
  batch.forEach((w, i) => {
    const o = outcomes[i];
    if (o.ok) w.resolve(o.value);
    else w.reject(o.error);
  });
}

/**
 * Reads, judges in arrival order, commits; retries the whole batch on a conflict. One clock
 * reading per attempt (the first submission's), and monotonic ULIDs, keep ids in arrival order.
 */
async function commitBatch(orgId: string, batch: Waiting[]): Promise<Outcome[]> {
  const { kv, now: clock, submitBatch } = batch[0].deps;
  const idemKeys = batch.flatMap((w) =>
    w.s.idempotencyKey === null ? [] : [idempotencyKey(orgId, w.s.idempotencyKey)]
  );
  for (let attempt = 0;; attempt++) {
    const now = clock();
    const read = await Promise.all([
      kv.get<Deno.KvU64>(balanceKey(orgId)),
      getManyChunked<IdempotencyRecord<CreatedGeneration>>(kv, idemKeys),
      readSpendGuard(kv, orgId, batch.map((w) => w.s.apiKeyId), now),
    ]).catch((err) => {
      if (!isBusy(err) || attempt >= MAX_TRIES) throw err;
      return null;
    });
    if (!read) {
      await backOff(attempt);
      continue;
    }
    const [balance, idemEntries, spend] = read;
    let running = balanceOf(balance);
    let nextIdem = 0;
    const outcomes: Outcome[] = [];
    const debits: Debit[] = [];
    let created = 0;
    let firstId: string | undefined;
    const a = kv.atomic();
    for (const { s } of batch) {
      const idemEntry = s.idempotencyKey === null ? null : idemEntries[nextIdem++];
      let fresh: typeof idemEntry = null;
      if (idemEntry) {
        try {
          const judged = judgeIdempotency(idemEntry, s.bodyHash, now);
          if (judged.kind === "replay") {
            outcomes.push({ ok: true, value: judged.response });
            continue;
          }
          fresh = judged.entry;
        } catch (error) {
          outcomes.push({ ok: false, error });
          continue;
        }
      }
      const refused = spend.refusal(s.apiKeyId, s.cost) ??
        (s.cost > running ? new InsufficientCredits(s.cost, running) : null);
      if (refused) {
        outcomes.push({ ok: false, error: refused });
        continue;
      }
      running -= s.cost;
      spend.take(s.apiKeyId, s.cost);
      created++;
      // The charge goes into the spend counters (spend.take): its refund may give it back.
      const g: GenerationRecord = { ...s.build(newId("gen", now), now), spend_counted: true };
      firstId ??= g.id;
      const response: CreatedGeneration = {
        id: g.id,
        status: "pending",
        created_at: Math.floor(now / 1000),
      };
      if (s.cost > 0) {
        debits.push({ cents: s.cost, kind: "charge", generationId: g.id, reason: s.reason });
      }
      addNewGeneration(a, g);
      addRequestUsage(a, orgId, now);
      if (fresh) {
        addIdempotencyRecord(a, orgId, s.idempotencyKey!, fresh, {
          body_hash: s.bodyHash,
          response,
          created_at: now,
        });
      }
      enqueueInAtomic(a, { type: "generation.submit", id: g.id, org: orgId });
      outcomes.push({ ok: true, value: response });
    }
    if (created === 0) return outcomes; // all refused or replayed: nothing to write
    if (debits.length > 0) {
      addDebitsMutations(a, orgId, balance, debits, now);
      addBalanceCrossings(a, {
        orgId,
        settings: spend.settings,
        before: balanceOf(balance),
        after: running,
        versionstamp: balance.versionstamp,
        nowMs: now,
      });
    }
    spend.addMutations(a);
    await submitBatch?.beforeCommit?.({ attempt, size: batch.length });
    if (await landed(kv, a, firstId!)) return outcomes;
    if (attempt >= MAX_TRIES) {
      throw new ChargeUnavailable("The organization's balance is busy; retry in a moment");
    }
    // Another process changed the balance: back off a little, with jitter, before re-reading.
    await backOff(attempt);
  }
}

function backOff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
}

/**
 * SQLite's "database is locked": another process sharing the KV file held it. The statement was
 * not applied (SQLite rolls the transaction back), so the attempt can simply be made again.
 */
function isBusy(err: unknown): boolean {
  return err instanceof Error && /database is locked/i.test(err.message);
}

/**
 * Commits; false on a failed check. A commit that throws may still have been applied (a lost
 * answer from a remote KV): then the batch's first new generation exists, and retrying would
 * charge twice, so it counts as landed.
 */
async function landed(kv: Deno.Kv, a: Deno.AtomicOperation, firstId: string): Promise<boolean> {
  try {
    return (await a.commit()).ok;
  } catch (err) {
    if (isBusy(err)) return false; // not applied: retried like a failed check
    const written = await kv.get(generationKey(firstId)).catch(() => undefined);
    if (written?.versionstamp) return true;
    if (written === undefined) {
      // Neither the commit's answer nor a read of its effect: it may have landed.
      console.error(`group commit: outcome unknown for ${firstId}`, err);
      throw new ChargeUnavailable(
        "Could not confirm the charge; retry with the same Idempotency-Key",
      );
    }
    throw err;
  }
}

/** getMany allows 10 keys a call; larger lists are read in parallel chunks. */
async function getManyChunked<T>(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  if (keys.length === 0) return [];
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < keys.length; i += 10) chunks.push(keys.slice(i, i + 10));
  return (await Promise.all(chunks.map((c) => kv.getMany<T[]>(c)))).flat();
}
