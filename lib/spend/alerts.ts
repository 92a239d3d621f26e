import { type BackgroundLog, backgroundLog } from "../http/log.ts";
import type { Services } from "../services.ts";
import { enqueueInAtomic, type JobHandler } from "../jobs.ts";
import { escapeHtml, type Mailer, mailerFor, plainName } from "../mail.ts";
import { listOrgMembers } from "../db/memberships.ts";
import { getOrg } from "../db/orgs.ts";
import { getUser } from "../db/users.ts";
import {
  addWebhookEventMutations,
  createDeliveryMutations,
  deliveryTargets,
  getWebhookEvent,
} from "../db/webhooks.ts";
import {
  balanceAlertKey,
  type BalanceAlertState,
  type BalanceCrossing,
  crossingKey,
} from "../db/spend.ts";
import { fundedAtKey } from "../db/ledger.ts";
import { ATTEMPT_JOB } from "../webhooks/notify.ts";
import { BALANCE_LOW, BALANCE_LOW_JOB } from "./crossing.ts";

/** The low-balance alert job: see crossing.ts for when it is owed. */
export { BALANCE_LOW, BALANCE_LOW_JOB };

/** At most this many low-balance alerts (email and `balance.low` event) per org per UTC day. */
export const ALERTS_PER_DAY = 3;
const DAY_MS = 86_400_000;

export interface AlertDeps {
  kv: Deno.Kv;
  now: () => number;
  mailer: Mailer;
  publicUrl: string;
  log: BackgroundLog;
}

export function alertDeps(services: Services): AlertDeps {
  return {
    kv: services.kv,
    now: services.now,
    mailer: mailerFor(services.config),
    publicUrl: services.config.publicUrl,
    log: backgroundLog(services.log),
  };
}

/** The Standard Webhooks payload of `balance.low` (API.md, "Spend controls"). */
export function balanceLowPayload(c: BalanceCrossing) {
  return {
    type: BALANCE_LOW,
    timestamp: new Date(c.created_at).toISOString(),
    data: {
      organization_id: c.org_id,
      balance_cents: c.balance_cents,
      threshold_cents: c.threshold_cents,
    },
  };
}

/** Creates the event's deliveries and attempt jobs once (the event record guards it). */
async function fanOutBalanceLow(deps: AlertDeps, c: BalanceCrossing): Promise<void> {
  const eventKey = `${c.id}:${BALANCE_LOW}`;
  for (let tries = 0; tries < 5; tries++) {
    if (await getWebhookEvent(deps.kv, eventKey)) return;
    const now = deps.now();
    const targets = await deliveryTargets(deps.kv, c.org_id, null, "balance.low");
    const a = deps.kv.atomic();
    const ids = targets.map((t) =>
      createDeliveryMutations(a, {
        orgId: c.org_id,
        endpointId: t.endpointId,
        url: t.url,
        eventType: BALANCE_LOW,
        payload: balanceLowPayload(c),
        nowMs: now,
      })
    );
    for (const id of ids) enqueueInAtomic(a, { type: ATTEMPT_JOB, id });
    addWebhookEventMutations(a, eventKey, ids, now);
    if ((await a.commit()).ok) return;
  }
  if (!(await getWebhookEvent(deps.kv, eventKey))) {
    throw new Error(`balance.low ${c.id}: could not record the webhook event`);
  }
}

/** The emails of the org's owners and admins. */
export async function adminEmails(kv: Deno.Kv, orgId: string): Promise<string[]> {
  const members = (await listOrgMembers(kv, orgId)).filter((m) => m.role !== "member");
  const users = await Promise.all(members.map((m) => getUser(kv, m.user_id)));
  return users.flatMap((u) => u ? [u.email] : []);
}

/**
 * Mails the admins once per crossing: the claim (mailed_at) is committed before sending and
 * given back when sending fails, so the job's retry sends it instead.
 */
async function mailAdminsOnce(deps: AlertDeps, id: string): Promise<void> {
  const entry = await deps.kv.get<BalanceCrossing>(crossingKey(id));
  const c = entry.value;
  if (!c || c.mailed_at !== null) return;
  const claimed = await deps.kv.atomic().check(entry)
    .set(entry.key, { ...c, mailed_at: deps.now() }).commit();
  if (!claimed.ok) return;
  const to = await adminEmails(deps.kv, c.org_id);
  if (!deps.mailer.configured || to.length === 0) {
    deps.log(`balance.low ${c.id}: no email sent (SMTP not configured or no admins)`);
    return;
  }
  // The org name is user text: plain (never a link) in the body, never in the subject.
  const org = plainName((await getOrg(deps.kv, c.org_id))?.name ?? c.org_id);
  const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;
  const link = `${deps.publicUrl}/billing`;
  try {
    await deps.mailer.send({
      to: to.join(", "),
      subject: `Pipevideo balance below ${dollars(c.threshold_cents)}`,
      text: `The balance of ${org} is ${dollars(c.balance_cents)}, below your alert threshold ` +
        `of ${dollars(c.threshold_cents)}.\n\nAdd credits: ${link}\n`,
      html:
        `<p>The balance of <strong>${escapeHtml(org)}</strong> is ${
          dollars(c.balance_cents)
        }, below your alert threshold of ${dollars(c.threshold_cents)}.</p>` +
        `<p><a href="${link}">Add credits</a></p>`,
    });
  } catch (err) {
    const back = await deps.kv.get<BalanceCrossing>(crossingKey(id));
    if (back.value) {
      await deps.kv.atomic().check(back).set(back.key, { ...back.value, mailed_at: null })
        .commit();
    }
    throw err;
  }
}

/**
 * Whether a crossing alerts, decided once in a commit with the org's alert state. It alerts when
 * the org was re-armed since its last alert — by money that is not a refund (fundedAtKey) or by
 * a new threshold; a refund only gives back what a generation took, so submit → cancel loops
 * re-cross without alerting — and fewer than ALERTS_PER_DAY went out that UTC day.
 */
async function decideAlert(deps: AlertDeps, id: string): Promise<BalanceCrossing | null> {
  for (;;) {
    const entry = await deps.kv.get<BalanceCrossing>(crossingKey(id));
    const c = entry.value;
    if (!c || c.alerted !== undefined) return c;
    const [state, funded] = await deps.kv.getMany<[BalanceAlertState, number]>([
      balanceAlertKey(c.org_id),
      fundedAtKey(c.org_id),
    ]);
    const last = state.value;
    const day = Math.floor(deps.now() / DAY_MS);
    const rearmed = !last || (c.created_at > last.alerted_at &&
      ((funded.value ?? 0) > last.alerted_at || c.threshold_cents !== last.threshold_cents));
    const count = last?.day === day ? last.count : 0;
    const alerted = rearmed && count < ALERTS_PER_DAY;
    const a = deps.kv.atomic().check(entry, state).set(entry.key, { ...c, alerted });
    if (alerted) {
      const next: BalanceAlertState = {
        alerted_at: c.created_at,
        threshold_cents: c.threshold_cents,
        day,
        count: count + 1,
      };
      a.set(state.key, next);
    }
    if (!(await a.commit()).ok) continue;
    if (!alerted) {
      deps.log(`balance.low ${id}: no alert (${rearmed ? "daily cap reached" : "not re-armed"})`);
    }
    return { ...c, alerted };
  }
}

/** The job: the webhook event and the email, each once per alerting crossing (see decideAlert). */
export async function runBalanceLowJob(deps: AlertDeps, id: string): Promise<void> {
  const c = await decideAlert(deps, id);
  if (!c?.alerted) return;
  await fanOutBalanceLow(deps, c);
  await mailAdminsOnce(deps, id);
}

export function alertJobHandlers(deps: AlertDeps): Record<string, JobHandler> {
  return { [BALANCE_LOW_JOB]: (job) => runBalanceLowJob(deps, job.id) };
}
