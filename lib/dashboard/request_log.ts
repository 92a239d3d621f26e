import { z } from "zod";
import type { Services } from "../services.ts";
import { generationKey, type GenerationRecord } from "../db/generations.ts";
import { listApiKeys } from "../db/apikeys.ts";
import { idAt, isId } from "../ids.ts";

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d\d-\d\d$/;
/** Index entries one page reads at most, so a narrow filter over a long history stays cheap. */
export const LOG_SCAN_CAP = 2000;
export const LOG_PAGE_SIZE = 25;

const day = z.string().regex(DATE).refine((s) => !Number.isNaN(Date.parse(s))).optional()
  .catch(undefined);

/**
 * The Usage log's filters, all in the URL so a view is shareable and back-button safe. A value
 * that does not parse is dropped (the page shows the unfiltered view of that field).
 */
export const logFilterSchema = z.object({
  model: z.string().min(1).max(120).optional().catch(undefined),
  status: z.enum(["pending", "processing", "completed", "failed", "cancelled"]).optional()
    .catch(undefined),
  /** An API key id, or "playground" for runs made in the Playground. */
  key: z.string().min(1).max(64).optional().catch(undefined),
  from: day,
  to: day,
  /** Paging: the rows older than this generation. */
  before: z.string().refine((s) => isId("gen", s)).optional().catch(undefined),
});
export type LogFilter = z.infer<typeof logFilterSchema>;

export function parseLogFilter(params: URLSearchParams): LogFilter {
  const raw = Object.fromEntries([...params].filter(([, v]) => v !== ""));
  return logFilterSchema.parse(raw);
}

/** The filter as a query string (without `before` unless asked), for links and the CSV. */
export function logQuery(f: LogFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const k of ["model", "status", "key", "from", "to"] as const) if (f[k]) q.set(k, f[k]!);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

export interface LogRow {
  g: GenerationRecord;
  /** Where it came from, by name: the API key's name, "Playground" or "Other". */
  source: string;
  /** The provider and model that ran it last, e.g. "local (local/preview)". */
  route: string | null;
}

export interface LogPage {
  rows: LogRow[];
  /** The `before` of the next (older) page, or null on the last one. */
  next: string | null;
  /** The scan stopped at LOG_SCAN_CAP before the range was read through. */
  capped: boolean;
  keys: { id: string; name: string }[];
}

/** The org's generations matching `f`, newest first, `limit` at a time. */
export async function requestLog(
  services: Services,
  orgId: string,
  f: LogFilter,
  limit = LOG_PAGE_SIZE,
  scanCap = LOG_SCAN_CAP,
): Promise<LogPage> {
  const { kv } = services;
  const prefix = ["org_generations", orgId];
  const start = [...prefix, f.from ? idAt("gen", Date.parse(f.from)) : ""];
  let end = [...prefix, f.to ? idAt("gen", Date.parse(f.to) + DAY_MS) : "gen_\uffff"];
  if (f.before && f.before < (end[2] as string)) end = [...prefix, f.before];
  const keys = (await listApiKeys(kv, orgId)).map((k) => ({ id: k.id, name: k.name }));
  const keyName = new Map(keys.map((k) => [k.id, k.name]));
  const matches = (g: GenerationRecord) =>
    (!f.model || g.model === f.model) && (!f.status || g.status === f.status) &&
    (!f.key ||
      (f.key === "playground"
        ? !g.api_key_id && g.application_name === "playground"
        : g.api_key_id === f.key));

  const rows: LogRow[] = [];
  let scanned = 0;
  let more = false;
  let batch: string[] = [];
  let lastScanned: string | null = null;
  const judge = async () => {
    const recs = await kv.getMany<GenerationRecord[]>(batch.map(generationKey));
    for (const r of recs) {
      const g = r.value;
      if (!g || !matches(g)) continue;
      if (rows.length === limit) {
        more = true;
        return;
      }
      const last = g.attempts.at(-1);
      rows.push({
        g,
        source: g.api_key_id
          ? keyName.get(g.api_key_id) ?? "Deleted key"
          : g.application_name === "playground"
          ? "Playground"
          : "Other",
        route: last ? `${last.provider} (${last.model})` : null,
      });
    }
    batch = [];
  };
  for await (const e of kv.list<string>({ start, end }, { reverse: true, limit: scanCap + 1 })) {
    if (++scanned > scanCap) break;
    batch.push(e.value);
    lastScanned = e.key[2] as string;
    if (batch.length === 10) await judge();
    if (more) break;
  }
  if (!more && batch.length) await judge();
  const capped = scanned > scanCap;
  return {
    rows,
    // A capped scan resumes past what it read, even when nothing on this page matched.
    next: more ? rows.at(-1)!.g.id : capped ? lastScanned : null,
    capped,
    keys,
  };
}
