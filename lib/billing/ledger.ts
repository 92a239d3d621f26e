import { getBalance, type LedgerEntry, listLedger, verifyLedger } from "../db/ledger.ts";
import { listOrgIds } from "../db/orgs.ts";
import { allBalances, allLedgerSums } from "../db/billing.ts";

/** A ledger entry with the balance right after it. */
export interface LedgerRow extends LedgerEntry {
  running_balance: number;
}

export interface LedgerPage {
  balance_cents: number;
  data: LedgerRow[];
  next_cursor: string | null;
}

/**
 * One page of an org's ledger, newest first, with the running balance after each entry. The
 * running balance continues across pages: our cursor carries the KV cursor and the balance right
 * before the page's first entry, so no page has to re-read all newer entries.
 */
export async function ledgerPage(
  kv: Deno.Kv,
  orgId: string,
  opts: { limit?: number; cursor?: string | null } = {},
): Promise<LedgerPage> {
  const balance = await getBalance(kv, orgId);
  const decoded = opts.cursor ? decodeCursor(opts.cursor) : null;
  const page = await listLedger(kv, orgId, { limit: opts.limit ?? 25, cursor: decoded?.kv });
  let running = decoded ? decoded.after : balance;
  const data: LedgerRow[] = page.data.map((e) => {
    const row = { ...e, running_balance: running };
    running -= e.amount_cents;
    return row;
  });
  return {
    balance_cents: balance,
    data,
    next_cursor: page.next_cursor ? encodeCursor({ kv: page.next_cursor, after: running }) : null,
  };
}

/** A ledger row as the JSON API shows it: like the row, with created_at in Unix seconds. */
export type ApiLedgerRow = Omit<LedgerRow, "created_at"> & { created_at: number };

/** API.md: every timestamp on the wire is Unix seconds; the ledger stores milliseconds. */
export function toApiLedgerRow(row: LedgerRow): ApiLedgerRow {
  return { ...row, created_at: Math.floor(row.created_at / 1000) };
}

function encodeCursor(c: { kv: string; after: number }): string {
  return btoa(JSON.stringify(c)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Undecodable cursors start from the newest entry rather than failing the page. */
function decodeCursor(s: string): { kv: string; after: number } | null {
  try {
    const c = JSON.parse(atob(s.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof c?.kv === "string" && Number.isSafeInteger(c?.after)) return c;
  } catch { /* fall through */ }
  return null;
}

export interface VerifyReport {
  ok: boolean;
  orgs_checked: number;
  mismatches: { org_id: string; balance_cents: number; ledger_sum_cents: number }[];
}

/**
 * Checks balance == sum(ledger) for every org that has a record, a balance or a ledger, in one
 * pass over the balances and one over the ledgers. Concurrent writes can make a live org look
 * off for a moment; a mismatch is re-checked per org before it is reported.
 */
export async function verifyAllLedgers(kv: Deno.Kv): Promise<VerifyReport> {
  const [orgIds, balances, sums] = await Promise.all([
    listOrgIds(kv),
    allBalances(kv),
    allLedgerSums(kv),
  ]);
  const checked = new Set([...orgIds, ...balances.keys(), ...sums.keys()]);
  const mismatches: VerifyReport["mismatches"] = [];
  for (const orgId of checked) {
    if ((balances.get(orgId) ?? 0) === (sums.get(orgId) ?? 0)) continue;
    const r = await verifyLedger(kv, orgId);
    if (!r.ok) {
      mismatches.push({ org_id: orgId, balance_cents: r.balance, ledger_sum_cents: r.sum });
    }
  }
  return { ok: mismatches.length === 0, orgs_checked: checked.size, mismatches };
}
