import { type BackgroundLog, backgroundLog } from "../http/log.ts";
import Stripe from "stripe";
import type { Services } from "../services.ts";
import type { JobHandler } from "../jobs.ts";
import { escapeHtml, type Mailer, mailerFor, plainName } from "../mail.ts";
import { NotFound } from "../errors.ts";
import { getOrg } from "../db/orgs.ts";
import { utcDay } from "../db/usage.ts";
import {
  type AutoTopup,
  autoTopupDayKey,
  autoTopupKey,
  getSavedCard,
  getSpendSettings,
  type SavedCard,
  savedCardKey,
  setSpendSettings,
  type TopupStatus,
} from "../db/spend.ts";
import { AUTO_TOPUP_JOB } from "../spend/crossing.ts";
import { adminEmails } from "../spend/alerts.ts";
import { BILLING_CURRENCY, PaymentProviderError, stripeClient } from "./stripe.ts";
import { creditPaidSession } from "./store.ts";

/**
 * Automatic top-up: a debit that takes the balance below the org's threshold owes one top-up
 * (spend/crossing.ts writes it with the debit). This job charges the saved card off-session with
 * an idempotency key derived from the crossing, so retries and duplicate jobs create one
 * PaymentIntent; only the signed `payment_intent.succeeded` webhook credits it, exactly once
 * (keyed by the PaymentIntent id, like a Checkout Session). At most `auto_topup_daily_cap` per
 * UTC day; a declined card turns auto top-up off and mails the admins; a payment that needs the
 * cardholder (SCA) is reported and not retried.
 */

export interface AutoTopupDeps {
  kv: Deno.Kv;
  now: () => number;
  stripe: Stripe | null;
  mailer: Mailer;
  publicUrl: string;
  log: BackgroundLog;
}

export function autoTopupDeps(services: Services): AutoTopupDeps {
  return {
    kv: services.kv,
    now: services.now,
    stripe: stripeClient(services.config, services.fetch),
    mailer: mailerFor(services.config),
    publicUrl: services.config.publicUrl,
    log: backgroundLog(services.log),
  };
}

async function setStatus(
  kv: Deno.Kv,
  entry: Deno.KvEntry<AutoTopup>,
  status: TopupStatus,
  nowMs: number,
  more: Partial<AutoTopup> = {},
): Promise<boolean> {
  const next = { ...entry.value, ...more, status, updated_at: nowMs };
  return (await kv.atomic().check(entry).set(entry.key, next).commit()).ok;
}

/**
 * Moves a pending top-up to `charging`, counting it against the day's cap in the same commit,
 * or to `capped` / `skipped`. Returns the card to charge, or null when there is nothing to do.
 */
async function claim(deps: AutoTopupDeps, id: string): Promise<SavedCard | null> {
  for (let tries = 0; tries < 20; tries++) {
    const entry = await deps.kv.get<AutoTopup>(autoTopupKey(id));
    const t = entry.value;
    if (!t) return null;
    const card = await getSavedCard(deps.kv, t.org_id);
    if (t.status === "charging") return card; // a retry after a transient Stripe error
    if (t.status !== "pending") return null;
    const now = deps.now();
    const settings = await getSpendSettings(deps.kv, t.org_id);
    if (!deps.stripe || !card || settings.auto_topup_below_cents === null) {
      await setStatus(deps.kv, entry as Deno.KvEntry<AutoTopup>, "skipped", now, {
        error: "Auto top-up is off or has no saved card",
      });
      return null;
    }
    const day = await deps.kv.get<number>(autoTopupDayKey(t.org_id, utcDay(now)));
    const used = day.value ?? 0;
    const a = deps.kv.atomic().check(entry).check(day);
    if (used >= settings.auto_topup_daily_cap) {
      a.set(
        entry.key,
        {
          ...t,
          status: "capped",
          error: `Daily cap of ${settings.auto_topup_daily_cap} automatic top-ups reached`,
          updated_at: now,
        } satisfies AutoTopup,
      );
      if ((await a.commit()).ok) return null;
      continue;
    }
    a.set(day.key, used + 1, { expireIn: 3 * 86_400_000 })
      .set(entry.key, { ...t, status: "charging", updated_at: now } satisfies AutoTopup);
    if ((await a.commit()).ok) return card;
  }
  throw new Error(`auto top-up ${id}: could not claim`);
}

/** The job: one off-session PaymentIntent per crossing. */
export async function runAutoTopupJob(deps: AutoTopupDeps, id: string): Promise<void> {
  const card = await claim(deps, id);
  if (!card || !deps.stripe) return;
  const entry = await deps.kv.get<AutoTopup>(autoTopupKey(id)) as Deno.KvEntry<AutoTopup>;
  const t = entry.value;
  let pi: Stripe.PaymentIntent;
  try {
    pi = await deps.stripe.paymentIntents.create({
      amount: t.amount_cents,
      currency: BILLING_CURRENCY,
      customer: card.customer_id,
      payment_method: card.payment_method_id,
      off_session: true,
      confirm: true,
      description: "Pipevideo credits (automatic top-up)",
      metadata: { org_id: t.org_id, auto_topup: id },
    }, { idempotencyKey: `pv-autotopup-${id}` });
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeCardError)) throw err; // transient: the job retries
    const piId = (err.raw as { payment_intent?: { id?: string } }).payment_intent?.id ?? null;
    if (err.code === "authentication_required") {
      await setStatus(deps.kv, entry, "requires_action", deps.now(), {
        payment_intent: piId,
        error: "The bank asked the cardholder to authenticate this payment",
      });
      await mailAdmins(
        deps,
        t,
        "needs your confirmation",
        "Your bank asked for the cardholder's authentication (SCA), which an automatic payment " +
          "cannot give. Nothing was charged; add funds on the billing page.",
      );
      return;
    }
    const reason = err.message || "The card was declined";
    await setStatus(deps.kv, entry, "declined", deps.now(), {
      payment_intent: piId,
      error: reason,
    });
    await setSpendSettings(deps.kv, t.org_id, {
      auto_topup_below_cents: null,
      auto_topup_disabled_reason: `Card declined: ${reason}`,
    }, deps.now());
    await mailAdmins(
      deps,
      t,
      "was declined, so automatic top-up is off",
      `Stripe answered: ${reason}. Automatic top-up is now off; save another card on the ` +
        "billing page to turn it back on.",
    );
    return;
  }
  const status: TopupStatus = pi.status === "succeeded" || pi.status === "processing"
    ? "submitted"
    : pi.status === "requires_action"
    ? "requires_action"
    : "declined";
  await setStatus(deps.kv, entry, status, deps.now(), { payment_intent: pi.id });
}

async function mailAdmins(deps: AutoTopupDeps, t: AutoTopup, what: string, detail: string) {
  const to = await adminEmails(deps.kv, t.org_id);
  if (!deps.mailer.configured || to.length === 0) {
    deps.log(`auto top-up ${t.id} ${what}; no email sent (SMTP not configured or no admins)`);
    return;
  }
  const org = plainName((await getOrg(deps.kv, t.org_id))?.name ?? t.org_id);
  const amount = `$${(t.amount_cents / 100).toFixed(2)}`;
  const link = `${deps.publicUrl}/billing`;
  // The org name is user text: in the body as plain text, never in the subject.
  await deps.mailer.send({
    to: to.join(", "),
    subject: `Pipevideo: automatic top-up of ${amount} ${what}`,
    text: `Organization: ${org}\n\n${detail}\n\n${link}\n`,
    html: `<p>Organization: ${escapeHtml(org)}</p><p>${escapeHtml(detail)}</p>` +
      `<p><a href="${link}">Billing</a></p>`,
  });
}

export function autoTopupJobHandlers(deps: AutoTopupDeps): Record<string, JobHandler> {
  return { [AUTO_TOPUP_JOB]: (job) => runAutoTopupJob(deps, job.id) };
}

/**
 * `payment_intent.succeeded` of an automatic top-up: credits the amount Stripe received once
 * (keyed by the PaymentIntent id) and marks the top-up succeeded. Returns whether it credited.
 */
export async function creditAutoTopup(
  kv: Deno.Kv,
  pi: Stripe.PaymentIntent,
  nowMs: number,
): Promise<{ credited: boolean; orgId: string | null; cents: number }> {
  const id = pi.metadata?.auto_topup;
  const t = id ? (await kv.get<AutoTopup>(autoTopupKey(id))) : null;
  // The org comes from our own record, never from metadata alone.
  if (!t?.value || t.value.org_id !== pi.metadata?.org_id) {
    return { credited: false, orgId: null, cents: 0 };
  }
  const cents = pi.amount_received;
  if ((pi.currency ?? "").toLowerCase() !== BILLING_CURRENCY || !(cents > 0)) {
    return { credited: false, orgId: t.value.org_id, cents: 0 };
  }
  const { credited } = await creditPaidSession(kv, {
    orgId: t.value.org_id,
    sessionId: pi.id,
    amountCents: cents,
    currency: BILLING_CURRENCY,
    paymentIntent: pi.id,
  }, nowMs);
  for (let tries = 0; tries < 5; tries++) {
    const e = await kv.get<AutoTopup>(autoTopupKey(id!));
    if (!e.value || e.value.status === "succeeded") break;
    const next = {
      ...e.value,
      status: "succeeded" as const,
      payment_intent: pi.id,
      updated_at: nowMs,
    };
    if ((await kv.atomic().check(e).set(e.key, next).commit()).ok) break;
  }
  return { credited, orgId: t.value.org_id, cents };
}

/**
 * Starts saving a card: a Stripe customer for the org (created once) and a Checkout Session in
 * setup mode. The card is stored when its `checkout.session.completed` webhook arrives.
 */
export async function createCardSetup(
  services: Services,
  input: { orgId: string; userId: string },
): Promise<{ url: string }> {
  const stripe = stripeClient(services.config, services.fetch);
  if (!stripe) throw new NotFound("Stripe is not configured");
  const base = services.config.publicUrl;
  try {
    const existing = await getSavedCard(services.kv, input.orgId);
    const customer = existing?.customer_id ?? (await stripe.customers.create({
      metadata: { org_id: input.orgId },
    }, { idempotencyKey: `pv-customer-${input.orgId}` })).id;
    const session = await stripe.checkout.sessions.create({
      mode: "setup",
      currency: BILLING_CURRENCY,
      customer,
      client_reference_id: input.orgId,
      metadata: { org_id: input.orgId, user_id: input.userId, purpose: "auto_topup" },
      setup_intent_data: { metadata: { org_id: input.orgId } },
      success_url: `${base}/billing?card=saved`,
      cancel_url: `${base}/billing`,
    });
    if (!session.url) throw new Error("no url");
    return { url: session.url };
  } catch (err) {
    services.log("error", "stripe setup session failed", { error: String(err) });
    throw new PaymentProviderError();
  }
}

/** `checkout.session.completed` in setup mode: saves the card for automatic top-ups. */
export async function saveCardFromSetup(
  kv: Deno.Kv,
  stripe: Stripe,
  session: Stripe.Checkout.Session,
  nowMs: number,
): Promise<{ saved: boolean; orgId: string | null }> {
  const orgId = session.metadata?.org_id ?? null;
  const setupIntent = typeof session.setup_intent === "string"
    ? session.setup_intent
    : session.setup_intent?.id;
  const customer = typeof session.customer === "string" ? session.customer : session.customer?.id;
  if (!orgId || !setupIntent || !customer || !(await getOrg(kv, orgId))) {
    return { saved: false, orgId: null };
  }
  const si = await stripe.setupIntents.retrieve(setupIntent, { expand: ["payment_method"] });
  const pm = si.payment_method;
  if (!pm) return { saved: false, orgId };
  const card: SavedCard = {
    customer_id: customer,
    payment_method_id: typeof pm === "string" ? pm : pm.id,
    brand: typeof pm === "string" ? null : pm.card?.brand ?? null,
    last4: typeof pm === "string" ? null : pm.card?.last4 ?? null,
    saved_at: nowMs,
  };
  await kv.set(savedCardKey(orgId), card);
  // A new card lifts a decline's switch-off; the admin turns auto top-up on again.
  await setSpendSettings(kv, orgId, { auto_topup_disabled_reason: null }, nowMs);
  return { saved: true, orgId };
}
