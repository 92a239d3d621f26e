import { getBalance } from "../db/ledger.ts";
import { getOrg, listOrgs, type Org } from "../db/orgs.ts";
import { listOrgMembers, type Role } from "../db/memberships.ts";
import { getUser } from "../db/users.ts";
import { getOrgMonthSpent, monthOf } from "../db/spend.ts";
import { periodsOf } from "../db/period.ts";
import { ledgerPage } from "../billing/ledger.ts";
import { type JobRecord, leaseKey, listJobs } from "../db/jobs.ts";
import type { JobLease } from "../db/jobs.ts";
import { type BreakerState, routeStatus } from "../generations/breaker.ts";
import { type RouteMargin, routeMargins } from "../generations/settlement.ts";
import type { Model } from "../catalog/mod.ts";
import type { Cents } from "../catalog/money.ts";

/**
 * What the operator console (/admin) shows, read from the same modules /admin/v1 reads. Lists
 * are bounded: an operator looks at the newest few hundred, and searches for the rest.
 */

export interface OrgRow {
  id: string;
  name: string;
  created_at: number;
  balance_cents: Cents;
  month_spent_cents: Cents;
}

/** Organizations scanned by a search; beyond them, search by id. */
export const ORG_SCAN_LIMIT = 1000;
const ORG_ROWS = 50;

async function orgRow(kv: Deno.Kv, org: Org, nowMs: number): Promise<OrgRow> {
  const month = monthOf(periodsOf(nowMs));
  const [balance, spent] = await Promise.all([
    getBalance(kv, org.id),
    getOrgMonthSpent(kv, org.id, month),
  ]);
  return { ...org, balance_cents: balance, month_spent_cents: spent };
}

/** Newest organizations whose name or id contains `query` (any case), with balance and spend. */
export async function searchOrgs(kv: Deno.Kv, query: string, nowMs: number): Promise<OrgRow[]> {
  const q = query.trim().toLowerCase();
  const exact = q.startsWith("org_") ? await getOrg(kv, query.trim()) : null;
  const orgs = exact ? [exact] : (await listOrgs(kv, ORG_SCAN_LIMIT))
    .filter((o) => !q || o.name.toLowerCase().includes(q) || o.id.toLowerCase().includes(q))
    .slice(0, ORG_ROWS);
  return await Promise.all(orgs.map((o) => orgRow(kv, o, nowMs)));
}

export interface MemberRow {
  user_id: string;
  email: string;
  role: Role;
}

/** One organization: balance, this month's spend, members and the newest ledger entries. */
export async function orgDetail(kv: Deno.Kv, org: Org, nowMs: number) {
  const [row, members, ledger] = await Promise.all([
    orgRow(kv, org, nowMs),
    listOrgMembers(kv, org.id),
    ledgerPage(kv, org.id, { limit: 50 }),
  ]);
  const users = await Promise.all(members.slice(0, 100).map((m) => getUser(kv, m.user_id)));
  return {
    org: row,
    members: members.slice(0, 100).map((m, i): MemberRow => ({
      user_id: m.user_id,
      email: users[i]?.email ?? "(deleted user)",
      role: m.role,
    })),
    ledger: ledger.data,
  };
}

export type JobState = "due" | "running" | "scheduled" | "dead";
export interface JobRow extends JobRecord {
  state: JobState;
}

const JOB_ROWS = 200;

/**
 * Background jobs as an operator sees them: due (waiting for a slot), running (under a live
 * lease), scheduled (later), and dead (parked after the last attempt; retry them).
 */
export async function jobBoard(kv: Deno.Kv, nowMs: number): Promise<JobRow[]> {
  const [pending, dead] = await Promise.all([
    listJobs(kv, "pending", { limit: JOB_ROWS }),
    listJobs(kv, "dead", { limit: JOB_ROWS }),
  ]);
  const leases: (JobLease | null)[] = [];
  for (let i = 0; i < pending.data.length; i += 10) {
    const batch = pending.data.slice(i, i + 10).map((r) => leaseKey(r.type, r.id));
    for (const e of await kv.getMany<JobLease[]>(batch)) leases.push(e.value);
  }
  const live = pending.data.map((r, i): JobRow => ({
    ...r,
    state: (leases[i]?.until ?? 0) > nowMs ? "running" : r.due_at <= nowMs ? "due" : "scheduled",
  }));
  const order: Record<JobState, number> = { dead: 0, running: 1, due: 2, scheduled: 3 };
  return [...dead.data.map((r): JobRow => ({ ...r, state: "dead" })), ...live]
    .sort((a, b) => order[a.state] - order[b.state] || a.due_at - b.due_at);
}

export interface RouteRow {
  model: string;
  provider: string;
  upstream_model: string;
  status: string;
  sunset: string | null;
  breaker: BreakerState;
  recent_failure_rate: number;
  duplicate_jobs: number;
  margin: RouteMargin | null;
}

/** Every route of the catalog in force with its breaker, margin and sunset date. */
export async function routeBoard(kv: Deno.Kv, models: Model[], nowMs: number) {
  const margins = await routeMargins(kv);
  const marginOf = new Map(margins.map((m) => [`${m.provider}\u0000${m.upstream_model}`, m]));
  const pairs = models.flatMap((m) => m.routes.map((r) => ({ m, r })));
  const statuses = await Promise.all(
    pairs.map(({ m, r }) => routeStatus(kv, m.slug, r.provider, nowMs)),
  );
  return pairs.map(({ m, r }, i): RouteRow => ({
    model: m.slug,
    provider: r.provider,
    upstream_model: r.upstreamModel,
    status: r.status ?? "ga",
    sunset: r.sunset ?? null,
    breaker: statuses[i].breaker,
    recent_failure_rate: statuses[i].recent_failure_rate,
    duplicate_jobs: statuses[i].duplicate_jobs,
    margin: marginOf.get(`${r.provider}\u0000${r.upstreamModel}`) ?? null,
  }));
}
