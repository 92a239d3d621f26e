/**
 * Ledger operations: `deno task ledger verify` checks balance == sum(ledger) for every org and
 * exits 1 on any mismatch; `deno task ledger list <orgId> [limit]` prints an org's ledger.
 * Reads DENO_KV_PATH (and the rest of the configuration) from the environment like the app.
 */
import { loadConfig } from "../lib/config.ts";
import { openKv } from "../lib/db/kv.ts";
import { ledgerPage, verifyAllLedgers } from "../lib/billing/ledger.ts";
import { getDebt } from "../lib/db/billing.ts";

const USAGE = "usage: deno task ledger verify | deno task ledger list <orgId> [limit]";

export async function run(args: string[], kv: Deno.Kv, out = console.log): Promise<number> {
  const [cmd, orgId, limitArg] = args;
  if (cmd === "verify") {
    const r = await verifyAllLedgers(kv);
    for (const m of r.mismatches) {
      out(`MISMATCH ${m.org_id}: balance ${m.balance_cents} != ledger sum ${m.ledger_sum_cents}`);
    }
    out(
      `${
        r.ok ? "OK" : "FAILED"
      }: ${r.orgs_checked} orgs checked, ${r.mismatches.length} mismatches`,
    );
    return r.ok ? 0 : 1;
  }
  if (cmd === "list" && orgId) {
    const limit = Math.min(Math.max(Number(limitArg ?? 200) || 200, 1), 200);
    const page = await ledgerPage(kv, orgId, { limit });
    out(
      `org ${orgId}: balance ${page.balance_cents} cents, refund debt ${await getDebt(
        kv,
        orgId,
      )} cents`,
    );
    for (const e of page.data) {
      out([
        new Date(e.created_at).toISOString(),
        e.id,
        e.kind.padEnd(10),
        String(e.amount_cents).padStart(10),
        String(e.running_balance).padStart(10),
        e.generation_id ?? e.reference ?? "",
        e.reason ?? "",
      ].join("  "));
    }
    if (page.next_cursor) out(`(more entries than ${limit}; older ones not shown)`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

if (import.meta.main) {
  const config = await loadConfig();
  const kv = await openKv(config.DENO_KV_PATH);
  const code = await run(Deno.args, kv);
  kv.close();
  Deno.exit(code);
}
