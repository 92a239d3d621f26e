import { Field, fieldAria } from "../ui.tsx";
import { LIMIT_RESETS, type LimitReset } from "../../lib/db/period.ts";

const RESET_LABEL: Record<LimitReset, string> = {
  never: "Never (a total)",
  daily: "Every day (UTC)",
  weekly: "Every Monday (UTC)",
  monthly: "Every month (UTC)",
};

/** A key's spend limit inputs, for the create form and the key's page. */
export function KeyLimitFields(props: {
  values: { limit_dollars: string; limit_reset: LimitReset };
  errors: Record<string, string | undefined>;
}) {
  const { values, errors } = props;
  return (
    <>
      <Field
        id="key-limit"
        label="Spend limit, USD (optional)"
        error={errors.limit_dollars}
        hint="Requests that would take the key past it are refused (402). Empty: no limit."
      >
        <input
          {...fieldAria("key-limit", errors.limit_dollars, true)}
          name="limit_dollars"
          inputMode="decimal"
          placeholder="e.g. 50"
          value={values.limit_dollars}
        />
      </Field>
      <Field id="key-limit-reset" label="Limit resets" error={errors.limit_reset}>
        <select {...fieldAria("key-limit-reset", errors.limit_reset)} name="limit_reset">
          {LIMIT_RESETS.map((r) => (
            <option key={r} value={r} selected={r === values.limit_reset}>{RESET_LABEL[r]}</option>
          ))}
        </select>
      </Field>
    </>
  );
}

export function describeReset(reset: LimitReset): string {
  return reset === "never" ? "in total" : reset === "daily" ? "a day" : `a ${reset.slice(0, -2)}`;
}
