import { Head, page } from "fresh";
import { define, type State } from "../../../utils.ts";
import { hasRole } from "../../../lib/auth/roles.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import {
  type FormErrors,
  saveSpendSettingsFromForm,
  spendPanel,
  type SpendPanelData,
  toDollarsField,
} from "../../../lib/spend/forms.ts";
import { Field, fieldAria, Flash, PageHeader } from "../../../components/ui.tsx";
import { formatCents } from "../../../lib/format.ts";
import { When } from "../../../components/time.tsx";

interface Data {
  spend: SpendPanelData;
  canManage: boolean;
  values: Record<string, string>;
  errors: FormErrors;
  saved: boolean;
}

const FIELDS = [
  "monthly_budget_dollars",
  "low_balance_dollars",
  "auto_topup_below_dollars",
  "auto_topup_amount_dollars",
  "auto_topup_daily_cap",
] as const;

/** The org's monthly budget, low-balance alert and automatic top-up, with its history. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    return page(await data(ctx.state, ctx.url.searchParams.get("m") === "saved"));
  },
  async POST(ctx) {
    const form = await readFormObject(ctx.req);
    const r = await saveSpendSettingsFromForm(ctx.state.services, ctx.state, form);
    if (r.ok) return ctx.redirect("/billing/spend?m=saved", 303);
    const d = await data(ctx.state, false);
    d.errors = r.errors;
    d.values = Object.fromEntries(FIELDS.map((f) => [f, String(form[f] ?? "")]));
    return page(d, { status: 400 });
  },
});

async function data(state: State, saved: boolean): Promise<Data> {
  const spend = await spendPanel(state.services, state.org!.id);
  const s = spend.settings;
  return {
    spend,
    canManage: hasRole(state, "admin"),
    values: {
      monthly_budget_dollars: toDollarsField(s.monthly_budget_cents),
      low_balance_dollars: toDollarsField(s.low_balance_cents),
      auto_topup_below_dollars: toDollarsField(s.auto_topup_below_cents),
      auto_topup_amount_dollars: toDollarsField(s.auto_topup_amount_cents),
      auto_topup_daily_cap: String(s.auto_topup_daily_cap),
    },
    errors: {},
    saved,
  };
}

function Dollars(props: { name: string; label: string; hint: string; data: Data }) {
  const { name, data } = props;
  const id = name.replaceAll("_", "-");
  return (
    <Field id={id} label={props.label} error={data.errors[name]} hint={props.hint}>
      <input
        {...fieldAria(id, data.errors[name], true)}
        name={name}
        inputMode="decimal"
        value={data.values[name]}
        disabled={!data.canManage}
      />
    </Field>
  );
}

export default define.page<unknown, Data>(function SpendPage({ data }) {
  const { spend } = data;
  const s = spend.settings;
  return (
    <div class="narrow">
      <Head>
        <title>Spend controls · Pipevideo</title>
      </Head>
      <PageHeader
        title="Spend controls"
        description="Caps and alerts for the organization; per-key limits are on each key's page."
      />
      {data.saved && <Flash kind="success">Saved.</Flash>}
      {s.auto_topup_disabled_reason && (
        <Flash kind="warning">
          Automatic top-up was turned off: {s.auto_topup_disabled_reason}
        </Flash>
      )}
      <form method="post" action="/billing/spend" class="card" novalidate>
        {Object.keys(data.errors).length > 0 && (
          <Flash kind="error">Nothing was saved. Fix the fields marked below.</Flash>
        )}
        <h2>Monthly budget</h2>
        <p data-testid="month-spent">
          {formatCents(spend.monthSpent)} spent this month; the month ends{" "}
          <When ms={spend.monthEndsAt} />.
        </p>
        <Dollars
          name="monthly_budget_dollars"
          label="Budget per month, USD"
          hint="Requests past it are refused (402 budget_exceeded). Empty: no budget."
          data={data}
        />
        <h2>Low-balance alert</h2>
        <Dollars
          name="low_balance_dollars"
          label="Alert below, USD"
          hint="Admins get an email and webhooks a balance.low event, once per crossing."
          data={data}
        />
        <h2>Automatic top-up</h2>
        {!spend.stripe
          ? <p>Needs Stripe, which is not configured on this server.</p>
          : spend.card
          ? (
            <p data-testid="saved-card">
              Card: {spend.card.brand ?? "card"} ending {spend.card.last4 ?? "…"}, saved{" "}
              <When ms={spend.card.saved_at} />.
            </p>
          )
          : <p>Save a card first (below), then set the amounts.</p>}
        <div class="form-row">
          <Dollars
            name="auto_topup_below_dollars"
            label="When the balance falls below, USD"
            hint="Empty: off."
            data={data}
          />
          <Dollars
            name="auto_topup_amount_dollars"
            label="Add, USD"
            hint="Charged to the saved card."
            data={data}
          />
          <Field
            id="auto-topup-daily-cap"
            label="At most, per day"
            error={data.errors.auto_topup_daily_cap}
          >
            <input
              {...fieldAria("auto-topup-daily-cap", data.errors.auto_topup_daily_cap)}
              name="auto_topup_daily_cap"
              inputMode="numeric"
              value={data.values.auto_topup_daily_cap}
              disabled={!data.canManage}
            />
          </Field>
        </div>
        {data.canManage && <button type="submit" class="button primary">Save</button>}
      </form>
      {data.canManage && spend.stripe && (
        <form method="post" action="/billing/card" class="card">
          <p>Save a card with Stripe for automatic top-ups. Nothing is charged now.</p>
          <button type="submit" class="button">
            {spend.card ? "Replace card" : "Save a card"}
          </button>
        </form>
      )}
      <section aria-labelledby="topups-heading">
        <h2 id="topups-heading">Automatic top-ups</h2>
        {spend.topups.length === 0 ? <p>None yet.</p> : (
          <div class="table-wrap">
            <table class="data-table" data-testid="topup-history">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col" class="num">Amount</th>
                  <th scope="col">Status</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {spend.topups.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <When ms={t.created_at} />
                    </td>
                    <td class="num">{formatCents(t.amount_cents)}</td>
                    <td>{t.status.replace("_", " ")}</td>
                    <td>{t.error ?? t.payment_intent ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <p>
        <a href="/billing">Billing</a>
      </p>
    </div>
  );
});
