import { z } from "zod";
import { define } from "../../../../../utils.ts";
import { json, readJson } from "../../../../../lib/http/json.ts";
import { requireOrg } from "../../../../../lib/db/orgs.ts";
import { creditOrg, debitOrg, getBalance } from "../../../../../lib/db/ledger.ts";

const body = z.object({
  amount_cents: z.number().int().refine((n) => n !== 0, "must not be zero")
    .refine((n) => Math.abs(n) <= 100_000_000, "must be at most 100000000 in size"),
  reason: z.string().trim().min(1).max(500),
  /** A positive amount is an `adjustment` unless told it is a `topup` (money received). */
  kind: z.enum(["adjustment", "topup"]).default("adjustment"),
});

/**
 * Adds (positive) or takes (negative) credits with a ledger entry: `{amount_cents, reason}` ->
 * `{balance_cents}`. A debit larger than the balance is 402 and changes nothing (the balance is
 * unsigned, so it can never go below zero).
 */
export const handler = define.handlers({
  async POST(ctx) {
    const { kv, now } = ctx.state.services;
    const { amount_cents, reason, kind } = await readJson(ctx.req, body);
    const org = await requireOrg(kv, ctx.params.org);
    if (amount_cents > 0) await creditOrg(kv, org.id, amount_cents, { kind, reason }, now());
    else await debitOrg(kv, org.id, -amount_cents, { reason }, now());
    return json({ balance_cents: await getBalance(kv, org.id) });
  },
});
