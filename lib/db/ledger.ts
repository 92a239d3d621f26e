import { kvCursor, type Page, pagedRead } from "./kv.ts";
import type { Cents } from "../catalog/money.ts";
import { InsufficientCredits } from "../errors.ts";
import { idAt, newId } from "../ids.ts";

/**
 * Balances and the ledger (DESIGN.md, "Money"). The balance is one Deno.KvU64 of cents per org;
 * every change of balance writes a ledger entry in the same commit, so balance == sum(ledger).
 */

export type LedgerKind = "topup" | "charge" | "refund" | "adjustment";

export interface LedgerEntry {
  id: string;
  org_id: string;
  kind: LedgerKind;
  /** Signed: positive adds to the balance, negative takes from it. */
  amount_cents: Cents;
  /** Known only for check-and-set debits; sum()-based credits cannot know it. */
  balance_after?: Cents;
  generation_id?: string;
  reference?: string;
  reason?: string;
  /** Who made a manual adjustment: `admin_api`, or `operator:<session id>` from /admin. */
  actor?: string;
  created_at: number; // ms
}

export const balanceKey = (orgId: string): Deno.KvKey => ["balance", orgId];
export const ledgerKey = (orgId: string, entryId: string): Deno.KvKey => ["ledger", orgId, entryId];
const creditRefKey = (reference: string): Deno.KvKey => ["credit_ref", reference];
/** When the org last got money that is not a refund (a top-up, an adjustment): ms. */
export const fundedAtKey = (orgId: string): Deno.KvKey => ["balance_funded_at", orgId];

export function balanceOf(entry: Deno.KvEntryMaybe<Deno.KvU64>): Cents {
  return entry.value === null ? 0 : Number(entry.value.value);
}

export async function getBalance(kv: Deno.Kv, orgId: string): Promise<Cents> {
  return balanceOf(await kv.get<Deno.KvU64>(balanceKey(orgId)));
}

export interface CreditOptions {
  kind: "topup" | "refund" | "adjustment";
  reference?: string;
  reason?: string;
  generationId?: string;
  actor?: string;
}

/** Adds a credit and its ledger entry to an atomic op; sum() never conflicts with other credits. */
export function addCreditMutations(
  atomic: Deno.AtomicOperation,
  orgId: string,
  cents: Cents,
  opts: CreditOptions,
  nowMs: number,
): LedgerEntry {
  assertCents(cents);
  const entry: LedgerEntry = {
    id: newId("led", nowMs),
    org_id: orgId,
    kind: opts.kind,
    amount_cents: cents,
    ...(opts.generationId ? { generation_id: opts.generationId } : {}),
    ...(opts.reference ? { reference: opts.reference } : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
    ...(opts.actor ? { actor: opts.actor } : {}),
    created_at: nowMs,
  };
  atomic.sum(balanceKey(orgId), BigInt(cents)).set(ledgerKey(orgId, entry.id), entry);
  // New money re-arms the low-balance alert; a refund only gives back what a generation took
  // (lib/spend/alerts.ts).
  if (opts.kind !== "refund") atomic.set(fundedAtKey(orgId), nowMs);
  return entry;
}

/**
 * Credits an org. With a `reference` (e.g. a Stripe checkout session id) it credits at most once:
 * the reference key is created in the same commit. Returns whether this call credited.
 */
export async function creditOrg(
  kv: Deno.Kv,
  orgId: string,
  cents: Cents,
  opts: CreditOptions,
  nowMs = Date.now(),
): Promise<{ credited: boolean; entry?: LedgerEntry }> {
  const atomic = kv.atomic();
  if (opts.reference) {
    atomic.check({ key: creditRefKey(opts.reference), versionstamp: null })
      .set(creditRefKey(opts.reference), { org_id: orgId, created_at: nowMs });
  }
  const entry = addCreditMutations(atomic, orgId, cents, opts, nowMs);
  const res = await atomic.commit();
  return res.ok ? { credited: true, entry } : { credited: false };
}

/**
 * Takes an adjustment from an org's balance. It never goes below zero silently: a debit larger
 * than the balance throws InsufficientCredits and changes nothing.
 */
export async function debitOrg(
  kv: Deno.Kv,
  orgId: string,
  cents: Cents,
  opts: { reason?: string; reference?: string; actor?: string } = {},
  nowMs = Date.now(),
): Promise<LedgerEntry> {
  assertCents(cents);
  return await serializeForOrg(kv, orgId, async () => {
    for (let attempt = 0;; attempt++) {
      const bal = await kv.get<Deno.KvU64>(balanceKey(orgId));
      const atomic = kv.atomic();
      const entry = addDebitMutations(
        atomic,
        orgId,
        bal,
        cents,
        { kind: "adjustment", ...opts },
        nowMs,
      );
      if ((await atomic.commit()).ok) return entry;
      if (attempt > 100) throw new Error(`debitOrg: too much contention on org ${orgId}`);
    }
  });
}

export interface Debit {
  cents: Cents;
  kind: "charge" | "adjustment";
  reason?: string;
  reference?: string;
  generationId?: string;
  actor?: string;
}

/**
 * Adds a checked debit to an atomic op: check(balance entry) + set(balance − cents) + ledger
 * entry. Throws InsufficientCredits when the balance read is too small.
 */
export function addDebitMutations(
  atomic: Deno.AtomicOperation,
  orgId: string,
  balance: Deno.KvEntryMaybe<Deno.KvU64>,
  cents: Cents,
  opts: Omit<Debit, "cents">,
  nowMs: number,
): LedgerEntry {
  return addDebitsMutations(atomic, orgId, balance, [{ cents, ...opts }], nowMs)[0];
}

/**
 * Adds several checked debits to ONE atomic op (a group commit): one check(balance entry), one
 * set(balance − total), and a ledger entry per debit whose balance_after is the running balance
 * in the given order. Throws InsufficientCredits, adding nothing, when the total does not fit.
 */
export function addDebitsMutations(
  atomic: Deno.AtomicOperation,
  orgId: string,
  balance: Deno.KvEntryMaybe<Deno.KvU64>,
  debits: Debit[],
  nowMs: number,
): LedgerEntry[] {
  const current = balanceOf(balance);
  const total = debits.reduce((sum, d) => sum + d.cents, 0);
  if (current < total) throw new InsufficientCredits(total, current);
  let running = current;
  const entries = debits.map((d): LedgerEntry => {
    running -= d.cents;
    return {
      id: newId("led", nowMs),
      org_id: orgId,
      kind: d.kind,
      amount_cents: -d.cents,
      balance_after: running,
      ...(d.generationId ? { generation_id: d.generationId } : {}),
      ...(d.reference ? { reference: d.reference } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.actor ? { actor: d.actor } : {}),
      created_at: nowMs,
    };
  });
  atomic.check(balance).set(balanceKey(orgId), new Deno.KvU64(BigInt(running)));
  for (const e of entries) atomic.set(ledgerKey(orgId, e.id), e);
  return entries;
}

// One hot key per org: an optimistic retry loop collapses under concurrency inside one process,
// so debits of one org run one after another here (other processes still rely on the checks).
const chains = new WeakMap<Deno.Kv, Map<string, Promise<unknown>>>();

export function serializeForOrg<T>(kv: Deno.Kv, orgId: string, fn: () => Promise<T>): Promise<T> {
  let byOrg = chains.get(kv);
  if (!byOrg) chains.set(kv, byOrg = new Map());
  const prev = byOrg.get(orgId) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  byOrg.set(orgId, tail);
  tail.then(() => {
    if (byOrg.get(orgId) === tail) byOrg.delete(orgId);
  });
  return run;
}

/** The org's ledger, newest first. */
export async function listLedger(
  kv: Deno.Kv,
  orgId: string,
  opts: { limit?: number; cursor?: string } = {},
): Promise<Page<LedgerEntry>> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  const cursor = kvCursor(opts.cursor);
  return await pagedRead(cursor, async () => {
    const iter = kv.list<LedgerEntry>({ prefix: ["ledger", orgId] }, {
      reverse: true,
      limit,
      cursor,
    });
    const data: LedgerEntry[] = [];
    for await (const e of iter) data.push(e.value);
    return { data, next_cursor: data.length === limit ? iter.cursor || null : null };
  });
}

/** Checks the invariant balance == sum(ledger) for one org. */
export async function verifyLedger(
  kv: Deno.Kv,
  orgId: string,
): Promise<{ balance: Cents; sum: Cents; ok: boolean }> {
  const [bal, sum] = await Promise.all([
    getBalance(kv, orgId),
    (async () => {
      let total = 0;
      for await (const e of kv.list<LedgerEntry>({ prefix: ["ledger", orgId] })) {
        total += e.value.amount_cents;
      }
      return total;
    })(),
  ]);
  return { balance: bal, sum, ok: bal === sum };
}

function assertCents(cents: number) {
  if (!Number.isSafeInteger(cents) || cents <= 0) {
    throw new RangeError(`amount must be a positive integer of cents, got ${cents}`);
  }
}

export type { Page };

/** The org's entries made between two times (ms), oldest first, at most `limit` read. */
export async function listLedgerBetween(
  kv: Deno.Kv,
  orgId: string,
  fromMs: number,
  toMs: number,
  limit = 500,
): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  const iter = kv.list<LedgerEntry>({
    start: ["ledger", orgId, idAt("led", fromMs)],
    end: ["ledger", orgId, idAt("led", toMs + 1)],
  }, { limit });
  for await (const e of iter) out.push(e.value);
  return out;
}
