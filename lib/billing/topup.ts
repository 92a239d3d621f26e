import { z } from "zod";
import type { Services } from "../services.ts";
import type { Config } from "../config.ts";
import { BadRequest, NotFound } from "../errors.ts";
import { randomToken } from "../crypto.ts";
import { creditOrg } from "../db/ledger.ts";
import { BILLING_CURRENCY, billingMode, PaymentProviderError, stripeClient } from "./stripe.ts";

/** Preset top-ups offered on the billing page, in cents (filtered to the configured limits). */
const PRESETS = [1_000, 2_500, 5_000, 10_000];

export function topupPresets(config: Config): number[] {
  return PRESETS.filter((c) => c >= config.BILLING_MIN_CENTS && c <= config.BILLING_MAX_CENTS);
}

export function formatUsd(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, "0")}`;
}

/**
 * Reads the amount of a top-up form: a preset `amount_cents`, or `custom_amount` in dollars
 * ("25", "25.50", "$1,000") which wins when filled in. Errors name the field and the limits.
 */
export function parseTopupAmount(config: Config, form: FormData): number {
  const custom = String(form.get("custom_amount") ?? "").trim();
  let cents: number;
  let param = "amount_cents";
  if (custom) {
    param = "custom_amount";
    const m = /^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(custom);
    if (!m) throw new BadRequest("Enter the amount in dollars, like 25 or 25.50", param);
    cents = Number(m[1].replaceAll(",", "")) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
  } else {
    const raw = String(form.get("amount_cents") ?? "");
    if (!/^\d{1,9}$/.test(raw)) throw new BadRequest("Choose an amount to add", param);
    cents = Number(raw);
  }
  const { BILLING_MIN_CENTS: min, BILLING_MAX_CENTS: max } = config;
  if (!Number.isSafeInteger(cents) || cents < min || cents > max) {
    throw new BadRequest(
      `The amount must be between ${formatUsd(min)} and ${formatUsd(max)}`,
      param,
    );
  }
  return cents;
}

/** A per-form token: the same submitted form maps to the same Stripe idempotency key. */
const attemptSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

export function newAttemptToken(): string {
  return randomToken(16);
}

/**
 * Creates a Stripe Checkout Session (payment mode) for a top-up and returns its URL. The org is
 * named in client_reference_id and metadata; what gets credited later is what Stripe says was
 * paid. The idempotency key is derived from the form's attempt token, the org and the amount, so
 * a double submit or an SDK retry returns the same session instead of creating a second one.
 */
export async function createTopupCheckout(
  services: Services,
  input: { orgId: string; userId: string; amountCents: number; attempt?: string | null },
): Promise<{ url: string; sessionId: string }> {
  const { config } = services;
  const stripe = stripeClient(config, services.fetch);
  if (!stripe) throw new NotFound("Stripe is not configured");
  const parsed = attemptSchema.safeParse(input.attempt);
  const attempt = parsed.success ? parsed.data : newAttemptToken();
  const base = config.publicUrl;
  let session;
  try {
    session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{
        quantity: 1,
        price_data: {
          currency: BILLING_CURRENCY,
          unit_amount: input.amountCents,
          product_data: { name: "Pipevideo credits" },
        },
      }],
      client_reference_id: input.orgId,
      metadata: { org_id: input.orgId, user_id: input.userId },
      payment_intent_data: { metadata: { org_id: input.orgId } },
      success_url: `${base}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${base}/billing/cancel`,
    }, { idempotencyKey: `pv-topup-${input.orgId}-${input.amountCents}-${attempt}` });
  } catch (err) {
    services.log("error", "stripe checkout session failed", { error: String(err) });
    throw new PaymentProviderError();
  }
  if (!session.url) throw new PaymentProviderError();
  return { url: session.url, sessionId: session.id };
}

/**
 * Development credits: free credits so the local flow works end to end without Stripe. Only when
 * Stripe is not configured and not in production; otherwise NotFound (the route answers 404).
 */
export async function addDevelopmentCredits(
  services: Services,
  orgId: string,
  cents: number,
): Promise<void> {
  if (billingMode(services.config) !== "development") throw new NotFound();
  await creditOrg(services.kv, orgId, cents, {
    kind: "adjustment",
    reason: "Development credits (no payment)",
  }, services.now());
}
