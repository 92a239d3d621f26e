import { formatCents } from "../../lib/format.ts";
import type { SpendPanelData } from "../../lib/spend/forms.ts";

/** The billing page's summary of spend controls, linking to /billing/spend. */
export function SpendSummary(props: { spend: SpendPanelData }) {
  const { settings: s, monthSpent } = props.spend;
  const off = "off";
  return (
    <section class="card" aria-labelledby="spend-heading" data-testid="spend-summary">
      <h2 id="spend-heading">Spend controls</h2>
      <ul>
        <li>
          Monthly budget: {s.monthly_budget_cents === null
            ? off
            : `${formatCents(monthSpent)} of ${formatCents(s.monthly_budget_cents)} this month`}
        </li>
        <li>
          Low-balance alert:{" "}
          {s.low_balance_cents === null ? off : `below ${formatCents(s.low_balance_cents)}`}
        </li>
        <li>
          Automatic top-up: {s.auto_topup_below_cents === null || !s.auto_topup_amount_cents
            ? (s.auto_topup_disabled_reason ? `off (${s.auto_topup_disabled_reason})` : off)
            : `add ${formatCents(s.auto_topup_amount_cents)} when below ${
              formatCents(s.auto_topup_below_cents)
            }`}
        </li>
      </ul>
      <a class="button" href="/billing/spend">Budget, alerts and auto top-up</a>
    </section>
  );
}
