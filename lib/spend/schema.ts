import { z } from "zod";
import { LIMIT_RESETS } from "../db/period.ts";

/** The spend fields of the admin API's key bodies; the OpenAPI document uses the same schema. */

/** $10M: far above any real limit, and well inside a safe integer. */
export const MAX_LIMIT_CENTS = 1_000_000_000;

export const limitCents = z.int().min(0).max(MAX_LIMIT_CENTS).nullable().describe(
  "Spend limit in cents per period; null for none",
);
export const limitReset = z.enum(LIMIT_RESETS).describe(
  "When the spent amount resets to zero (UTC boundaries; weeks start on Monday)",
);

export const keyLimitPatch = z.strictObject({
  limit_cents: limitCents.optional(),
  limit_reset: limitReset.optional(),
});

export const orgSpendPatch = z.strictObject({
  monthly_budget_cents: limitCents.optional().describe(
    "Cap on generation spend per UTC calendar month; null for none",
  ),
  low_balance_cents: limitCents.optional().describe(
    "A charge that takes the balance below this sends one balance.low alert; null for none",
  ),
});
