import { formatCents } from "../../lib/format.ts";
import type { KeyUsage } from "../../lib/spend/usage.ts";
import { describeReset } from "./KeyLimitFields.tsx";

/** The keys table's spend cell: this period's spend, against the limit when there is one. */
export function KeySpend(props: { usage?: KeyUsage }) {
  const u = props.usage;
  if (!u) return <span>—</span>;
  if (u.limit_cents === null) {
    return <span data-testid="key-spend">{formatCents(u.all_time.spent_cents)} total</span>;
  }
  const over = u.period.spent_cents >= u.limit_cents;
  return (
    <span data-testid="key-spend" class={over ? "debit" : undefined}>
      {formatCents(u.period.spent_cents)} of {formatCents(u.limit_cents)}{" "}
      {describeReset(u.limit_reset)}
    </span>
  );
}
