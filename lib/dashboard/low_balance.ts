import type { Services } from "../services.ts";
import { getOrgMonthSpent, getSpendSettings } from "../db/spend.ts";
import { periodId } from "../db/period.ts";

const DAY_MS = 86_400_000;
/** Below this a balance is low whatever the org spends: a few runs of the cheaper models. */
export const LOW_BALANCE_FLOOR_CENTS = 100;

/** When the Billing page calls a balance low, and why. */
export interface LowBalanceRule {
  thresholdCents: number;
  /** "alert": the org's own low-balance alert; "week": about a week of its recent spending. */
  basis: "alert" | "week";
}

/**
 * The org's own low-balance alert when it set one; otherwise about a week of what it spends
 * (this month's daily rate), never below LOW_BALANCE_FLOOR_CENTS. A fixed $5 called the free
 * starting credit "low" after one $0.04 run.
 */
export async function lowBalanceRule(services: Services, orgId: string): Promise<LowBalanceRule> {
  const now = services.now();
  const [settings, monthSpent] = await Promise.all([
    getSpendSettings(services.kv, orgId),
    getOrgMonthSpent(services.kv, orgId, periodId("monthly", now)),
  ]);
  if (settings.low_balance_cents !== null && settings.low_balance_cents > 0) {
    return { thresholdCents: settings.low_balance_cents, basis: "alert" };
  }
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const days = Math.max(1, Math.ceil((now - monthStart) / DAY_MS));
  const week = Math.ceil((monthSpent / days) * 7);
  return { thresholdCents: Math.max(LOW_BALANCE_FLOOR_CENTS, week), basis: "week" };
}
