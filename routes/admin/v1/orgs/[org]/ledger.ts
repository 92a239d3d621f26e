import { z } from "zod";
import { define } from "../../../../../utils.ts";
import { json, parseWith } from "../../../../../lib/http/json.ts";
import { requireOrg } from "../../../../../lib/db/orgs.ts";
import { ledgerPage, toApiLedgerRow } from "../../../../../lib/billing/ledger.ts";
import { getDebt } from "../../../../../lib/db/billing.ts";

const query = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2000).optional(),
});

/**
 * GET an org's ledger, newest first, each entry with its running balance:
 * `{balance_cents, debt_cents, data: [...], next_cursor}`; created_at in Unix seconds.
 */
export const handler = define.handlers({
  async GET(ctx) {
    const { kv } = ctx.state.services;
    const q = parseWith(query, Object.fromEntries(ctx.url.searchParams));
    const org = await requireOrg(kv, ctx.params.org);
    const [page, debt] = await Promise.all([
      ledgerPage(kv, org.id, { limit: q.limit, cursor: q.cursor }),
      getDebt(kv, org.id),
    ]);
    return json({
      balance_cents: page.balance_cents,
      debt_cents: debt,
      data: page.data.map(toApiLedgerRow),
      next_cursor: page.next_cursor,
    });
  },
});
