import { Head, page } from "fresh";
import { define } from "../../../utils.ts";
import { hasRole, requireRole } from "../../../lib/auth/roles.ts";
import { BadRequest } from "../../../lib/errors.ts";
import { PaymentProviderError } from "../../../lib/billing/stripe.ts";
import { readForm } from "../../../lib/http/form.ts";
import { type BillingOverview, billingOverview } from "../../../lib/billing/overview.ts";
import {
  LOW_BALANCE_FLOOR_CENTS,
  type LowBalanceRule,
  lowBalanceRule,
} from "../../../lib/dashboard/low_balance.ts";
import {
  createTopupCheckout,
  newAttemptToken,
  parseTopupAmount,
} from "../../../lib/billing/topup.ts";
import type { LedgerRow } from "../../../lib/billing/ledger.ts";
import { formatCents } from "../../../lib/format.ts";
import { SpendSummary } from "../../../components/spend/SpendSummary.tsx";
import { spendPanel, type SpendPanelData } from "../../../lib/spend/forms.ts";
import type { Services } from "../../../lib/services.ts";
import { When } from "../../../components/time.tsx";

interface Data extends BillingOverview {
  spend: SpendPanelData;
  lowRule: LowBalanceRule;
  canManage: boolean;
  attempt: string;
  cursor: string | null;
  error?: { param: string | null; message: string; custom: string };
  /** Stripe could not be reached: the same request, to send again from the banner. */
  retry?: { amount_cents: string; custom_amount: string; attempt: string };
}

/** What the page shows for `orgId`, with a fresh attempt token for its top-up form. */
async function pageData(
  services: Services,
  orgId: string,
  cursor: string | null,
  canManage: boolean,
): Promise<Data> {
  const [overview, spend, lowRule] = await Promise.all([
    billingOverview(services, orgId, cursor),
    spendPanel(services, orgId),
    lowBalanceRule(services, orgId),
  ]);
  return {
    ...overview,
    // Low relative to what this org spends (lib/dashboard/low_balance.ts), or any debt.
    low: overview.balanceCents < lowRule.thresholdCents || overview.debtCents > 0,
    lowRule,
    spend,
    canManage,
    attempt: newAttemptToken(),
    cursor,
  };
}

export const handler = define.handlers({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const cursor = ctx.url.searchParams.get("cursor");
    return page<Data>(await pageData(services, org!.id, cursor, hasRole(ctx.state, "admin")));
  },
  /** Add funds: a Stripe Checkout Session for the chosen amount, then 303 to Stripe. */
  async POST(ctx) {
    requireRole(ctx.state, "admin");
    const { services, org, user } = ctx.state;
    const form = await readForm(ctx.req);
    try {
      const amountCents = parseTopupAmount(services.config, form);
      const { url } = await createTopupCheckout(services, {
        orgId: org!.id,
        userId: user!.id,
        amountCents,
        attempt: String(form.get("attempt") ?? ""),
      });
      return ctx.redirect(url, 303);
    } catch (err) {
      if (err instanceof PaymentProviderError) {
        // Where the user is, with a retry: the same attempt token, so no second checkout.
        return page<Data>({
          ...await pageData(services, org!.id, null, true),
          retry: {
            amount_cents: String(form.get("amount_cents") ?? ""),
            custom_amount: String(form.get("custom_amount") ?? ""),
            attempt: String(form.get("attempt") ?? ""),
          },
        }, { status: 502 });
      }
      if (!(err instanceof BadRequest)) throw err;
      return page<Data>({
        ...await pageData(services, org!.id, null, true),
        error: {
          param: err.param,
          message: err.message,
          custom: String(form.get("custom_amount") ?? ""),
        },
      }, { status: 400 });
    }
  },
});

const KIND_LABEL: Record<LedgerRow["kind"], string> = {
  topup: "Top-up",
  charge: "Charge",
  refund: "Refund",
  adjustment: "Adjustment",
};

function describe(e: LedgerRow): string {
  if (e.kind === "charge" || e.kind === "refund") {
    return e.generation_id ? `Generation ${e.generation_id}` : e.reason ?? "";
  }
  return e.reason ?? "";
}

export default define.page<typeof handler, Data>(function Billing({ data }) {
  const err = data.error;
  const customError = err?.param === "custom_amount" ? err.message : null;
  const formError = err && !customError ? err.message : null;
  return (
    <div class="billing">
      <Head>
        <title>Billing · Pipevideo</title>
      </Head>
      <h1>Billing</h1>

      <section class="card billing-summary" aria-labelledby="balance-heading">
        <h2 id="balance-heading" class="eyebrow">Credit balance</h2>
        <p class="billing-balance" data-testid="billing-balance">
          {formatCents(data.balanceCents)}
        </p>
        {data.debtCents > 0 && (
          <p class="flash flash-error billing-notice" role="alert" data-testid="refund-debt">
            <strong>Refund debt: {formatCents(data.debtCents)}.</strong>{" "}
            A payment was refunded or disputed after its credits were spent. The next top-up pays
            this first.
          </p>
        )}
        {data.low && data.debtCents === 0 && (
          <p class="flash flash-warning billing-notice" role="status" data-testid="low-balance">
            <strong>Your balance is low.</strong>{" "}
            New generations are refused (402) when their price is above the balance.
            {data.canManage
              ? " Add funds below."
              : " Ask an admin of this organization to add funds."}
          </p>
        )}
        <p class="muted" data-testid="low-balance-rule">
          {data.lowRule.basis === "alert"
            ? (
              <>
                Low means below {formatCents(data.lowRule.thresholdCents)}, your low-balance alert.
              </>
            )
            : (
              <>
                Low means below{" "}
                {formatCents(data.lowRule.thresholdCents)}: about a week of this organization's
                spending at this month's rate, and never under{" "}
                {formatCents(LOW_BALANCE_FLOOR_CENTS)}.
              </>
            )} Set your own on <a href="/billing/spend">Spend controls</a>.
        </p>
      </section>

      {data.canManage && data.mode === "stripe" && (
        <section class="card" aria-labelledby="add-heading">
          <h2 id="add-heading">Add funds</h2>
          <p>
            Pay with Stripe; credits appear once Stripe confirms the payment. One top-up is between
            {" "}
            {formatCents(data.minCents)} and {formatCents(data.maxCents)}.
          </p>
          {formError && <p class="flash flash-error" role="alert" id="amount-error">{formError}</p>}
          {data.retry && (
            <form
              method="post"
              action="/billing"
              class="flash flash-error retry-banner"
              role="alert"
              data-testid="stripe-unreachable"
            >
              <p>
                <strong>Stripe could not be reached.</strong>{" "}
                Nothing was charged. Try again in a moment.
              </p>
              {Object.entries(data.retry).map(([name, value]) =>
                value && <input key={name} type="hidden" name={name} value={value} />
              )}
              <button class="button small" type="submit">Try again</button>
            </form>
          )}
          <form method="post" action="/billing" class="billing-form">
            <input type="hidden" name="attempt" value={data.attempt} />
            <fieldset class="billing-presets">
              <legend>Choose an amount</legend>
              {data.presets.map((c) => (
                <button key={c} class="button" type="submit" name="amount_cents" value={String(c)}>
                  {formatCents(c)}
                </button>
              ))}
            </fieldset>
            <div class="field">
              <label for="custom_amount">Or another amount (USD)</label>
              <input
                id="custom_amount"
                name="custom_amount"
                inputMode="decimal"
                placeholder="e.g. 75"
                value={err?.custom ?? ""}
                aria-invalid={customError ? "true" : undefined}
                aria-describedby={customError ? "custom_amount-error" : undefined}
              />
              {customError && (
                <span id="custom_amount-error" class="field-error">{customError}</span>
              )}
            </div>
            <button class="button primary" type="submit">Continue to payment</button>
          </form>
        </section>
      )}

      {data.canManage && data.mode === "development" && (
        <section class="card" aria-labelledby="dev-heading">
          <h2 id="dev-heading">Add development credits</h2>
          <p>
            Stripe is not configured, so this development server can add free credits to try the
            whole flow. In production this is off.
          </p>
          <form method="post" action="/billing/dev-credits" class="billing-presets">
            {data.presets.map((c) => (
              <button key={c} class="button" type="submit" name="amount_cents" value={String(c)}>
                Add {formatCents(c)}
              </button>
            ))}
          </form>
        </section>
      )}

      {data.canManage && data.mode === "off" && (
        <p class="flash flash-info" role="status">
          Payments are not configured on this server. An operator can add credits with the admin
          API.
        </p>
      )}

      <SpendSummary spend={data.spend} />

      <section aria-labelledby="ledger-heading">
        <h2 id="ledger-heading">Ledger</h2>
        {data.ledger.length === 0 ? <p>No balance changes yet.</p> : (
          <div class="table-wrap">
            <table class="data-table billing-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Description</th>
                  <th scope="col" class="num">Amount</th>
                  <th scope="col" class="num">Balance after</th>
                </tr>
              </thead>
              <tbody>
                {data.ledger.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <When ms={e.created_at} />
                    </td>
                    <td>{KIND_LABEL[e.kind]}</td>
                    <td>{describe(e)}</td>
                    <td class={e.amount_cents < 0 ? "num debit" : "num credit"}>
                      {e.amount_cents > 0 ? "+" : ""}
                      {formatCents(e.amount_cents)}
                    </td>
                    <td class="num">{formatCents(e.running_balance)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav class="pager" aria-label="Ledger pages">
          {data.cursor && <a href="/billing">Newest</a>}
          {data.nextCursor && (
            <a href={`/billing?cursor=${encodeURIComponent(data.nextCursor)}`} rel="next">
              Older entries
            </a>
          )}
        </nav>
      </section>

      <section aria-labelledby="payments-heading">
        <h2 id="payments-heading">Payments</h2>
        {data.payments.length === 0 ? <p>No payments yet.</p> : (
          <div class="table-wrap">
            <table class="data-table billing-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col" class="num">Amount</th>
                  <th scope="col" class="num">Refunded</th>
                  <th scope="col">Receipt</th>
                </tr>
              </thead>
              <tbody>
                {data.payments.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <When ms={p.created_at} />
                    </td>
                    <td class="num">{formatCents(p.amount_cents)}</td>
                    <td class="num">{p.refunded_cents ? formatCents(p.refunded_cents) : "—"}</td>
                    <td>
                      {p.receipt_url
                        ? (
                          <a href={p.receipt_url} rel="noopener noreferrer" target="_blank">
                            Stripe receipt
                          </a>
                        )
                        : <span title={p.payment_intent ?? ""}>Pending from Stripe</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
});
