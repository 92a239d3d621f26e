import type { Services } from "../services.ts";
import { listPayments, type PaymentView } from "./store.ts";
import { getDebt } from "../db/billing.ts";
import { ledgerPage, type LedgerRow } from "./ledger.ts";
import { type BillingMode, billingMode } from "./stripe.ts";
import { topupPresets } from "./topup.ts";

/** Below this the billing page warns that generations will soon be refused. */
export const LOW_BALANCE_CENTS = 500;

export interface BillingOverview {
  mode: BillingMode;
  balanceCents: number;
  debtCents: number;
  low: boolean;
  ledger: LedgerRow[];
  nextCursor: string | null;
  payments: PaymentView[];
  presets: number[];
  minCents: number;
  maxCents: number;
}

/** Everything the billing page shows for one org. */
export async function billingOverview(
  services: Services,
  orgId: string,
  cursor: string | null,
): Promise<BillingOverview> {
  const { kv, config } = services;
  const [page, debtCents, payments] = await Promise.all([
    ledgerPage(kv, orgId, { cursor, limit: 25 }),
    getDebt(kv, orgId),
    listPayments(kv, orgId, 20),
  ]);
  return {
    mode: billingMode(config),
    balanceCents: page.balance_cents,
    debtCents,
    low: page.balance_cents < LOW_BALANCE_CENTS || debtCents > 0,
    ledger: page.data,
    nextCursor: page.next_cursor,
    payments,
    presets: topupPresets(config),
    minCents: config.BILLING_MIN_CENTS,
    maxCents: config.BILLING_MAX_CENTS,
  };
}
