import type { Services } from "../services.ts";
import {
  generationKey,
  type GenerationRecord,
  isTerminal,
  listOrgGenerationIdsBetween,
} from "../db/generations.ts";
import { listApiKeys } from "../db/apikeys.ts";

/** The Usage page's ranges, in days. */
export const RANGES = [7, 30, 90] as const;
export type RangeDays = typeof RANGES[number];
/** Generations one report reads at most; past it the report says it is partial. */
export const REPORT_CAP = 5000;
const DAY_MS = 86_400_000;

export function parseRange(v: string | null): RangeDays {
  const n = Number(v);
  return (RANGES as readonly number[]).includes(n) ? n as RangeDays : 30;
}

export interface Breakdown {
  label: string;
  requests: number;
  spendCents: number;
}

export interface UsageReport {
  days: string[];
  requests: number[];
  spendCents: number[];
  status: { completed: number; failed: number; cancelled: number; running: number };
  byModel: Breakdown[];
  byKey: Breakdown[];
  generations: GenerationRecord[];
  truncated: boolean;
}

/** What a generation costs the org: its final price, or what is held while it runs. */
export function spendOf(g: GenerationRecord): number {
  return isTerminal(g) ? g.cost_cents ?? 0 : g.charged_cents;
}

/** The org's generations of the last `days` UTC days (today included), oldest first. */
export async function generationsInRange(
  services: Services,
  orgId: string,
  days: number,
): Promise<{ generations: GenerationRecord[]; from: number; truncated: boolean }> {
  const today = Math.floor(services.now() / DAY_MS) * DAY_MS;
  const from = today - (days - 1) * DAY_MS;
  const ids = await listOrgGenerationIdsBetween(
    services.kv,
    orgId,
    from,
    today + DAY_MS,
    REPORT_CAP + 1,
  );
  const truncated = ids.length > REPORT_CAP;
  const generations: GenerationRecord[] = [];
  for (let i = 0; i < Math.min(ids.length, REPORT_CAP); i += 10) {
    const batch = ids.slice(i, Math.min(i + 10, REPORT_CAP));
    const entries = await services.kv.getMany<GenerationRecord[]>(batch.map(generationKey));
    for (const e of entries) if (e.value) generations.push(e.value);
  }
  return { generations, from, truncated };
}

export async function usageReport(
  services: Services,
  orgId: string,
  days: RangeDays,
): Promise<UsageReport> {
  const [{ generations, from, truncated }, keys] = await Promise.all([
    generationsInRange(services, orgId, days),
    listApiKeys(services.kv, orgId),
  ]);
  const dayList = Array.from(
    { length: days },
    (_, i) => new Date(from + i * DAY_MS).toISOString().slice(0, 10),
  );
  const index = new Map(dayList.map((d, i) => [d, i]));
  const requests = dayList.map(() => 0);
  const spendCents = dayList.map(() => 0);
  const status = { completed: 0, failed: 0, cancelled: 0, running: 0 };
  const byModel = new Map<string, Breakdown>();
  const byKey = new Map<string, Breakdown>();
  const keyName = new Map(keys.map((k) => [k.id, k.name]));
  // Rows are kept apart by `id` (two keys may share a name) and shown by `label`.
  const add = (m: Map<string, Breakdown>, label: string, cents: number, id = label) => {
    const row = m.get(id) ?? { label, requests: 0, spendCents: 0 };
    row.requests++;
    row.spendCents += cents;
    m.set(id, row);
  };
  for (const g of generations) {
    const i = index.get(new Date(g.created_at).toISOString().slice(0, 10));
    if (i === undefined) continue;
    const cents = spendOf(g);
    requests[i]++;
    spendCents[i] += cents;
    if (g.status === "completed" || g.status === "failed" || g.status === "cancelled") {
      status[g.status]++;
    } else status.running++;
    add(byModel, g.model, cents);
    const source = g.api_key_id
      ? keyName.get(g.api_key_id) ?? "Deleted key"
      : g.application_name === "playground"
      ? "Playground"
      : "Other";
    add(byKey, source, cents, g.api_key_id ?? source);
  }
  const sorted = (m: Map<string, Breakdown>) =>
    [...m.values()].sort((a, b) => b.spendCents - a.spendCents || b.requests - a.requests);
  return {
    days: dayList,
    requests,
    spendCents,
    status,
    byModel: sorted(byModel),
    byKey: sorted(byKey),
    generations,
    truncated,
  };
}

/** One CSV cell: quoted when needed; a leading = + - @ is defused for spreadsheets. */
function cell(v: unknown): string {
  let s = v === null || v === undefined ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function generationsCsv(
  generations: GenerationRecord[],
  keyNames: Map<string, string> = new Map(),
): string {
  const header = [
    "id",
    "created_at",
    "completed_at",
    "status",
    "model",
    "api_key_id",
    "key_name",
    "source",
    "cost_cents",
    "duration_s",
    "resolution",
    "aspect_ratio",
    "latency_ms",
    "error_message",
    "prompt",
  ];
  const rows = generations.map((g) => [
    g.id,
    new Date(g.created_at).toISOString(),
    g.completed_at ? new Date(g.completed_at).toISOString() : "",
    g.status,
    g.model,
    g.api_key_id ?? "",
    g.api_key_id ? keyNames.get(g.api_key_id) ?? "" : "",
    g.application_name ?? "",
    spendOf(g),
    g.options.duration,
    g.options.resolution,
    g.options.aspect_ratio,
    g.latency_ms ?? "",
    g.error_message ?? "",
    g.options.prompt,
  ]);
  return [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
}
