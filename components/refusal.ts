import { formatCents, formatWhen } from "../lib/format.ts";

/** A refused request as the dashboard says it: in dollars and words, with its own remedy. */
export interface Refusal {
  message: string;
  link?: { href: string; label: string };
}

const SPEND_CONTROLS = { href: "/billing/spend", label: "Spend controls" };
const ADD_CREDITS = { href: "/billing", label: "Add credits" };

/**
 * The API's 402s (lib/errors.ts) carry their figures in `data`; the API message stays as clients
 * read it, and a person reads this instead. Any other refusal keeps its own message.
 */
export function refusalOf(
  error: { code?: string | null; message: string; data?: Record<string, unknown> | null },
  timeZone?: string,
): Refusal {
  const d = error.data ?? {};
  const cents = (k: string) => typeof d[k] === "number" ? formatCents(d[k] as number) : "?";
  const resets = typeof d.resets_at === "number"
    ? ` It resets ${formatWhen((d.resets_at as number) * 1000, "date", timeZone)}.`
    : "";
  switch (error.code) {
    case "insufficient_credits":
      return { message: "Your balance is too low for this run.", link: ADD_CREDITS };
    case "budget_exceeded":
      return {
        message: `This run would go over the organization's monthly budget of ` +
          `${cents("budget_cents")} (${cents("spent_cents")} spent).${resets}`,
        link: SPEND_CONTROLS,
      };
    case "key_limit_exceeded":
      return {
        message: `This run would go over the key's spend limit of ${cents("limit_cents")} ` +
          `(${cents("spent_cents")} spent).${resets}`,
        link: { href: "/keys", label: "API keys" },
      };
    default:
      return { message: error.message };
  }
}
