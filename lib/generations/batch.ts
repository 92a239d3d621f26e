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
import { spendGuardFrom, spendGuardKeys } from "../spend/guard.ts";
import { KvBusy, KvLimitExceeded, readAnchored } from "../db/kv.ts";
import { addBalanceCrossings } from "../spend/crossing.ts";
import { recordCreditsCharged } from "../telemetry/metrics.ts";

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
 * (another process moved the balance) re-reads and retries the whole batch. Each promise settles
 * only once its batch's commit has landed (or it was refused or replayed).
 *
 * A batch commit has ONE check, whatever its size (denokv allows 10 per commit): the org's
 * balance entry, which every batch commit writes (even one that charges nothing). The other
 * records it writes need none: generation ids are fresh ULIDs and crossing ids derive from the
 * checked balance versionstamp, so neither can collide; idempotency records and the limited
 * spend counters are written only by batch commits, which all write the balance, and they are
 * read together with it (readAnchored), so the balance check covers them.
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
 * A submission writes about ten records (generation and indexes, ledger entry, usage, spend
 * counters, idempotency record, job and its due entry): 25 keeps a batch near 250 of the 1000
 * mutations denokv allows and the commit short. 48 is the ceiling a tuning may ask for.
 */
export const MAX_BATCH = 25;
/** denokv allows 800 KiB of keys and values per atomic op; stay well inside it. */
export const MAX_BATCH_BYTES = 512 * 1024;
const MAX_TRIES = 50;

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
  let bytes = 0;
  let n = 0;
  for (; n < waiting.length && n < max; n++) {
    const s = waiting[n].s;
    if (n > 0 && bytes + s.bytes > MAX_BATCH_BYTES) break;
    if (s.idempotencyKey !== null) {
      if (keys.has(s.idempotencyKey)) break;
      keys.add(s.idempotencyKey);
    }
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
 * Commits a batch; if KV refuses the commit as beyond a limit (the size estimate missed), each
 * submission is retried on its own, and the log says so: batching is off for it. Not on
 * contention or an unknown outcome: splitting would hold the org longer, or could charge a batch
 * that did land a second time.
 */
async function commitOrSplit(orgId: string, batch: Waiting[]) {
  try {
    settle(batch, await commitBatch(orgId, batch));
  } catch (err) {
    if (batch.length === 1 || !(err instanceof KvLimitExceeded)) {
      return batch.forEach((w) => w.reject(err));
    }
    console.error(`group commit: ${batch.length} submissions of ${orgId} split up`, err);
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
  const apiKeyIds = batch.map((w) => w.s.apiKeyId);
  // The last attempt, when its commit did not say it landed: see `unconfirmed` below.
  let previous: Unconfirmed | null = null;
  // What the last attempt charged, counted (metrics) once its commit is known to have landed.
  let charged = 0;
  const landed = (outcomes: Outcome[]) => {
    recordCreditsCharged(charged);
    return outcomes;
  };
  for (let attempt = 0;; attempt++) {
    const now = clock();
    const spendKeys = spendGuardKeys(orgId, apiKeyIds, now);
    const probe = previous ? [generationKey(previous.firstId)] : [];
    const read = await readAnchored<Deno.KvU64>(kv, balanceKey(orgId), [
      ...probe,
      ...idemKeys,
      ...spendKeys,
    ]).catch((err) => {
      if (previous?.error === undefined) throw err;
      // Neither the commit's answer nor a read of its effect: it may have landed.
      console.error(`group commit: outcome unknown for ${previous.firstId}`, previous.error, err);
      throw new ChargeUnavailable(
        "Could not confirm the charge; retry with the same Idempotency-Key",
      );
    });
    const entries = read.entries.slice(probe.length);
    if (previous) {
      if (read.entries[0].versionstamp) return landed(previous.outcomes); // it did land
      if (previous.error !== undefined) throw previous.error; // it threw and wrote nothing
    }
    const balance = read.anchor;
    const idemEntries = entries.slice(0, idemKeys.length) as Deno.KvEntryMaybe<
      IdempotencyRecord<CreatedGeneration>
    >[];
    const spend = spendGuardFrom(orgId, apiKeyIds, now, entries.slice(idemKeys.length));
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
        addIdempotencyRecord(a, orgId, s.idempotencyKey!, {
          body_hash: s.bodyHash,
          response,
          created_at: now,
        });
      }
      enqueueInAtomic(a, { type: "generation.submit", id: g.id, org: orgId });
      outcomes.push({ ok: true, value: response });
    }
    if (created === 0) return outcomes; // all refused or replayed: nothing to write
    if (debits.length === 0) {
      // Free submissions still write the balance: it is what serializes the org's batches.
      a.check(balance).set(balanceKey(orgId), new Deno.KvU64(BigInt(running)));
    } else {
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
    charged = debits.reduce((sum, d) => sum + d.cents, 0);
    previous = await unconfirmed(a, firstId!, outcomes);
    if (!previous) return landed(outcomes);
    if (attempt >= MAX_TRIES) {
      if ((await kv.get(generationKey(firstId!))).versionstamp) return landed(outcomes);
      throw new ChargeUnavailable("The organization's balance is busy; retry in a moment");
    }
    // Another process changed the balance: back off a little, with jitter, before re-reading.
    await backOff(attempt);
  }
}

/** An attempt whose commit did not say it landed, to be settled by the next attempt's read. */
interface Unconfirmed {
  firstId: string;
  outcomes: Outcome[];
  /** What the commit threw, if it threw. */
  error?: unknown;
}

function backOff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
}

/**
 * Commits; null when it landed. Otherwise whether it landed is settled by its effect, the batch's
 * first new generation, which the next attempt reads with the rest (no extra round trip): a
 * commit that threw may have been applied (a lost answer from a remote KV, or one past its
 * deadline), and a failed check may be the second send of one that was (Deno's KV Connect client
 * sends a write again after a network error or a 5xx, and the repeat finds the balance it
 * changed). Retrying either blindly would charge twice.
 */
async function unconfirmed(
  a: Deno.AtomicOperation,
  firstId: string,
  outcomes: Outcome[],
): Promise<Unconfirmed | null> {
  try {
    return (await a.commit()).ok ? null : { firstId, outcomes };
  } catch (error) {
    // Refused before it was applied: nothing written.
    if (error instanceof KvBusy || error instanceof KvLimitExceeded) throw error;
    return { firstId, outcomes, error };
  }
}
