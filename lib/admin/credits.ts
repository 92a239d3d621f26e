import { z } from "zod";
import { requireOrg } from "../db/orgs.ts";
import { creditOrg, debitOrg, getBalance } from "../db/ledger.ts";
import type { Cents } from "../catalog/money.ts";

/** An operator's manual change of an org's credits: /admin/v1 and the /admin console share it. */
export const CreditAdjustment = z.object({
  amount_cents: z.number().int().refine((n) => n !== 0, "must not be zero")
    .refine((n) => Math.abs(n) <= 100_000_000, "must be at most 100000000 in size"),
  reason: z.string().trim().min(1, "A reason is required").max(500),
  /** A positive amount is an `adjustment` unless told it is a `topup` (money received). */
  kind: z.enum(["adjustment", "topup"]).default("adjustment"),
});
export type CreditAdjustment = z.infer<typeof CreditAdjustment>;

/**
 * Adds (positive) or takes (negative) credits with a ledger entry naming `actor`, and returns the
 * new balance. A debit larger than the balance throws InsufficientCredits and changes nothing.
 */
export async function adjustOrgCredits(
  kv: Deno.Kv,
  orgId: string,
  change: CreditAdjustment,
  actor: string,
  nowMs: number,
): Promise<Cents> {
  const org = await requireOrg(kv, orgId);
  const { amount_cents, reason, kind } = change;
  if (amount_cents > 0) await creditOrg(kv, org.id, amount_cents, { kind, reason, actor }, nowMs);
  else await debitOrg(kv, org.id, -amount_cents, { reason, actor }, nowMs);
  return await getBalance(kv, org.id);
}
