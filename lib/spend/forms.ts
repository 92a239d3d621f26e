import { z } from "zod";
import type { Services } from "../services.ts";
import type { Role } from "../db/memberships.ts";
import { requireRole } from "../auth/roles.ts";
import { createKeyFromForm, type CreateKeyResult } from "../auth/keys.ts";
import { type KeyLimit, setKeyLimit } from "../db/apikeys.ts";
import {
  getOrgMonthSpent,
  getSavedCard,
  getSpendSettings,
  listAutoTopups,
  listCrossings,
  setSpendSettings,
  type SpendSettings,
} from "../db/spend.ts";
import { billingMode } from "../billing/stripe.ts";
import { LIMIT_RESETS, periodEnd, periodId } from "../db/period.ts";
import { MAX_LIMIT_CENTS } from "./schema.ts";

/** The dashboard's spend forms: amounts in dollars ("25", "25.50", empty for none). */

type Actor = { org?: { id: string }; role?: Role };
export type FormErrors = Record<string, string>;

const dollars = z.string().trim().regex(
  /^(\$?\d{1,8}(\.\d{1,2})?)?$/,
  "Enter dollars, like 25 or 25.50",
)
  .transform((s) => {
    if (!s) return null;
    const [d, c = ""] = s.replace("$", "").split(".");
    return Number(d) * 100 + Number(c.padEnd(2, "0"));
  })
  .refine((c) => c === null || c <= MAX_LIMIT_CENTS, "That is more than this server allows");

const limitForm = z.object({
  limit_dollars: dollars.optional().default(null),
  limit_reset: z.enum(LIMIT_RESETS, "Pick when the limit resets").optional().default("never"),
});

const settingsForm = z.object({
  monthly_budget_dollars: dollars.optional().default(null),
  low_balance_dollars: dollars.optional().default(null),
  auto_topup_below_dollars: dollars.optional().default(null),
  auto_topup_amount_dollars: dollars.optional().default(null),
  auto_topup_daily_cap: z.coerce.number().int("A whole number").min(1, "At least 1")
    .max(20, "At most 20").optional().default(3),
});

function errorsOf(err: z.ZodError): FormErrors {
  const out: FormErrors = {};
  for (const i of err.issues) out[String(i.path[0])] ??= i.message;
  return out;
}

export function parseLimitForm(
  form: Record<string, unknown>,
): { ok: true; limit: Omit<KeyLimit, "updated_at"> } | { ok: false; errors: FormErrors } {
  const r = limitForm.safeParse(form);
  if (!r.success) return { ok: false, errors: errorsOf(r.error) };
  return {
    ok: true,
    limit: { limit_cents: r.data.limit_dollars, limit_reset: r.data.limit_reset },
  };
}

/** The keys page's create form, with its optional spend limit (set before the secret is shown). */
export async function createKeyWithLimitFromForm(
  services: Services,
  state: Actor,
  form: Record<string, unknown>,
): Promise<CreateKeyResult | { ok: false; errors: FormErrors }> {
  const limit = parseLimitForm(form);
  if (!limit.ok) {
    requireRole(state, "admin");
    return limit;
  }
  const created = await createKeyFromForm(services, state, form);
  if (created.ok && limit.limit.limit_cents !== null) {
    await setKeyLimit(services.kv, state.org!.id, created.key.id, limit.limit, services.now());
  }
  return created;
}

export async function saveKeyLimitFromForm(
  services: Services,
  state: Actor,
  keyId: string,
  form: Record<string, unknown>,
): Promise<{ ok: true } | { ok: false; errors: FormErrors }> {
  requireRole(state, "admin");
  const limit = parseLimitForm(form);
  if (!limit.ok) return limit;
  await setKeyLimit(services.kv, state.org!.id, keyId, limit.limit, services.now());
  return { ok: true };
}

export async function saveSpendSettingsFromForm(
  services: Services,
  state: Actor,
  form: Record<string, unknown>,
): Promise<{ ok: true } | { ok: false; errors: FormErrors }> {
  requireRole(state, "admin");
  const r = settingsForm.safeParse(form);
  if (!r.success) return { ok: false, errors: errorsOf(r.error) };
  const d = r.data;
  const orgId = state.org!.id;
  const patch: Partial<SpendSettings> = {
    monthly_budget_cents: d.monthly_budget_dollars,
    low_balance_cents: d.low_balance_dollars,
  };
  const wantsTopup = d.auto_topup_below_dollars !== null || d.auto_topup_amount_dollars !== null;
  if (wantsTopup) {
    if (d.auto_topup_below_dollars === null) {
      return { ok: false, errors: { auto_topup_below_dollars: "Say below which balance" } };
    }
    if (!d.auto_topup_amount_dollars) {
      return { ok: false, errors: { auto_topup_amount_dollars: "Say how much to add" } };
    }
    const { BILLING_MIN_CENTS: min, BILLING_MAX_CENTS: max } = services.config;
    if (d.auto_topup_amount_dollars < min || d.auto_topup_amount_dollars > max) {
      return {
        ok: false,
        errors: { auto_topup_amount_dollars: `Between $${min / 100} and $${max / 100}` },
      };
    }
    if (!(await getSavedCard(services.kv, orgId))) {
      return { ok: false, errors: { auto_topup_below_dollars: "Save a card first" } };
    }
  }
  await setSpendSettings(services.kv, orgId, {
    ...patch,
    auto_topup_below_cents: d.auto_topup_below_dollars,
    auto_topup_amount_cents: d.auto_topup_amount_dollars,
    auto_topup_daily_cap: d.auto_topup_daily_cap,
    ...(wantsTopup ? { auto_topup_disabled_reason: null } : {}),
  }, services.now());
  return { ok: true };
}

/** What the billing page's spend controls show. */
export async function spendPanel(services: Services, orgId: string) {
  const now = services.now();
  const [settings, monthSpent, card, topups, alerts] = await Promise.all([
    getSpendSettings(services.kv, orgId),
    getOrgMonthSpent(services.kv, orgId, periodId("monthly", now)),
    getSavedCard(services.kv, orgId),
    listAutoTopups(services.kv, orgId, 10),
    listCrossings(services.kv, orgId, 5),
  ]);
  return {
    settings,
    monthSpent,
    monthEndsAt: periodEnd("monthly", now)!,
    card,
    topups,
    alerts,
    stripe: billingMode(services.config) === "stripe",
  };
}

export type SpendPanelData = Awaited<ReturnType<typeof spendPanel>>;

/** Cents as the forms show them: "25.50", or "" for none. */
export function toDollarsField(cents: number | null): string {
  if (cents === null) return "";
  return cents % 100 === 0 ? String(cents / 100) : (cents / 100).toFixed(2);
}
