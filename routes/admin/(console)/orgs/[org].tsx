import { page } from "fresh";
import { z } from "zod";
import { define } from "../../../../utils.ts";
import { requireOrg } from "../../../../lib/db/orgs.ts";
import { orgDetail } from "../../../../lib/admin/console.ts";
import { adjustOrgCredits, CreditAdjustment } from "../../../../lib/admin/credits.ts";
import { readFormObject } from "../../../../lib/http/form.ts";
import { noticeFor } from "../../../../lib/http/notice.ts";
import { AppError } from "../../../../lib/errors.ts";
import { formatCents, formatDateTime } from "../../../../lib/format.ts";
import { Field, fieldAria, Flash, PageHeader } from "../../../../components/ui.tsx";

type Detail = Awaited<ReturnType<typeof orgDetail>>;
interface Data extends Detail {
  notice: string | null;
  error: string | null;
  form: { amount: string; reason: string; kind: string };
  csrf: string;
}

const NOTICES: Record<string, string> = { adjusted: "Credits adjusted; the ledger shows it." };

// Dollars as an operator types them: "25", "-5.50".
const CreditForm = z.object({
  amount: z.string().trim().regex(/^-?\d{1,7}(\.\d{1,2})?$/, "Enter dollars, like 25 or -5.50"),
  reason: z.string(),
  kind: z.enum(["adjustment", "topup"]).default("adjustment"),
});

/** One organization: balance, spend, members, ledger, and a credit grant or take-back. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { kv, now } = ctx.state.services;
    const org = await requireOrg(kv, ctx.params.org);
    return page({
      ...await orgDetail(kv, org, now()),
      notice: noticeFor(NOTICES, ctx.url.searchParams.get("m")),
      error: null,
      form: { amount: "", reason: "", kind: "adjustment" },
      csrf: ctx.state.operator!.csrf,
    });
  },
  async POST(ctx) {
    const { kv, now } = ctx.state.services;
    const org = await requireOrg(kv, ctx.params.org);
    const raw = await readFormObject(ctx.req);
    const str = (v: unknown) => typeof v === "string" ? v : "";
    const form = {
      amount: str(raw.amount),
      reason: str(raw.reason),
      kind: str(raw.kind) || "adjustment",
    };
    let error: string;
    const parsed = CreditForm.safeParse(form);
    if (parsed.success) {
      const change = CreditAdjustment.safeParse({
        amount_cents: Math.round(Number(parsed.data.amount) * 100),
        reason: parsed.data.reason,
        kind: parsed.data.kind,
      });
      if (change.success) {
        try {
          // The same function as POST /admin/v1/orgs/{org}/credits, with this session as actor.
          await adjustOrgCredits(
            kv,
            org.id,
            change.data,
            `operator:${ctx.state.operator!.sessionId}`,
            now(),
          );
          return ctx.redirect(`/admin/orgs/${org.id}?m=adjusted`, 303);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          error = err.message;
        }
      } else {
        const issue = change.error.issues[0];
        error = issue.path[0] === "amount_cents" ? `Amount ${issue.message}` : issue.message;
      }
    } else {
      error = parsed.error.issues[0].message;
    }
    return page({
      ...await orgDetail(kv, org, now()),
      notice: null,
      error,
      form,
      csrf: ctx.state.operator!.csrf,
    }, { status: 400 });
  },
});

export default define.page<unknown, Data>(function OrgPage({ data }) {
  const { org } = data;
  return (
    <>
      <PageHeader title={org.name} description={<code>{org.id}</code>} />
      {data.notice && <Flash kind="success">{data.notice}</Flash>}
      <dl class="details-list">
        <dt>Balance</dt>
        <dd data-testid="balance">{formatCents(org.balance_cents)}</dd>
        <dt>Spend this month</dt>
        <dd>{formatCents(org.month_spent_cents)}</dd>
        <dt>Created</dt>
        <dd>{formatDateTime(org.created_at)}</dd>
      </dl>

      <section class="card">
        <h2>Grant or take back credit</h2>
        {data.error && <Flash kind="error">{data.error}</Flash>}
        <form method="post" class="billing-form" novalidate>
          <input type="hidden" name="csrf" value={data.csrf} />
          <Field id="amount" label="Amount in dollars (negative takes credit back)">
            <input
              {...fieldAria("amount", null)}
              name="amount"
              inputmode="decimal"
              required
              value={data.form.amount}
            />
          </Field>
          <Field id="kind" label="Kind">
            <select id="kind" name="kind">
              <option value="adjustment" selected={data.form.kind !== "topup"}>
                Adjustment (a grant, a goodwill refund, a correction)
              </option>
              <option value="topup" selected={data.form.kind === "topup"}>
                Top-up (money received outside Stripe)
              </option>
            </select>
          </Field>
          <Field id="reason" label="Reason (required, kept in the ledger)">
            <input
              {...fieldAria("reason", null)}
              name="reason"
              required
              maxLength={500}
              value={data.form.reason}
            />
          </Field>
          <button type="submit" class="button primary">Record in the ledger</button>
        </form>
      </section>

      <h2>Members</h2>
      {data.members.length === 0
        ? <p class="muted">No members.</p>
        : (
          <table class="data-table" data-testid="members">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
              </tr>
            </thead>
            <tbody>
              {data.members.map((m) => (
                <tr key={m.user_id}>
                  <td>{m.email}</td>
                  <td>{m.role}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}

      <h2>Ledger</h2>
      <div class="table-scroll" tabIndex={0} role="region" aria-label="Ledger">
        <table class="data-table" data-testid="ledger">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Kind</th>
              <th scope="col">Amount</th>
              <th scope="col">Balance after</th>
              <th scope="col">Reason</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {data.ledger.map((e) => (
              <tr key={e.id}>
                <td>{formatDateTime(e.created_at)}</td>
                <td>{e.kind}</td>
                <td>{formatCents(e.amount_cents)}</td>
                <td>{formatCents(e.running_balance)}</td>
                <td>{e.reason ?? (e.generation_id ? <code>{e.generation_id}</code> : "—")}</td>
                <td>{e.actor ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
});
