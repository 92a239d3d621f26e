import { formatCents } from "../format.ts";
import type { ModelDetail, ModelListItem } from "../catalog/public.ts";
import type { ApiGeneration, getUsage } from "../generations/service.ts";

/**
 * The text an agent reads from each MCP tool: the same facts as the REST JSON (which also goes
 * out as structuredContent), in the wording of the existing Pipevideo MCP client — money in
 * dollars, latency in seconds.
 */

type Usage = Awaited<ReturnType<typeof getUsage>>;

const seconds = (ms: number | null) => ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`;
const dollars = (cents: number | null) => cents === null ? "—" : formatCents(cents);
const utc = (sec: number | null) =>
  sec === null ? "—" : new Date(sec * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";

function priceLine(p: ModelListItem["pricing"]): string {
  const per = p.unit === "second" ? "/second" : "/video";
  return Object.entries(p.cents).map(([res, c]) => `${formatCents(c)}${per} at ${res}`).join(", ");
}

export function modelListText(models: ModelListItem[]): string {
  if (models.length === 0) return "No models are available on this server.";
  const lines = models.map((m) =>
    `- ${m.display_name} (${m.slug}) — maker: ${m.maker.name}, family: ${m.family.name}; ` +
    `routes: ${m.routes.map((r) => r.provider).join(", ")}; ${priceLine(m.pricing)}`
  );
  return `${models.length} models available:\n${lines.join("\n")}`;
}

export function modelDetailText({ model: m, metrics: s }: ModelDetail): string {
  const c = m.capabilities;
  return [
    `${m.display_name} (${m.slug})`,
    m.description,
    `Maker: ${m.maker.name} · Family: ${m.family.name}`,
    `Routes: ${m.routes.map((r) => `${r.provider.name} (${r.provider.slug})`).join(", ")}`,
    `Durations: ${c.durations.join(", ")} s · Resolutions: ${c.resolutions.join(", ")} · ` +
    `Aspect ratios: ${c.aspect_ratios.join(", ")}` + (c.image_input ? " · takes an image" : ""),
    `Price: ${priceLine(m.pricing)}`,
    `Last 7 days: ${s.totalRequests} requests, ${s.completedRequests} completed, ` +
    `${s.failedRequests} failed, ${s.successRate}% success; latency avg ` +
    `${seconds(s.avgLatencyMs)}, p50 ${seconds(s.p50LatencyMs)}, p95 ${seconds(s.p95LatencyMs)}`,
  ].join("\n");
}

const EXPIRED =
  "Video: deleted after this server's retention period (VIDEO_RETENTION_DAYS); it cannot be downloaded any more.";

export function generationText(g: ApiGeneration): string {
  const lines = [`Generation ${g.id} is ${g.status}.`, `Model: ${g.model}`];
  if (g.output_url) lines.push(`Video: ${g.output_url}`);
  if (g.output_expired) lines.push(EXPIRED);
  if (g.error_message) lines.push(`Error: ${g.error_message}`);
  lines.push(`Cost: ${dollars(g.cost_cents)}`, `Latency: ${seconds(g.latency_ms)}`);
  if (g.status === "pending" || g.status === "processing") {
    lines.push(`Not finished yet: call get_generation with id ${g.id} to check again.`);
  }
  return lines.join("\n");
}

export function generationListText(page: { data: ApiGeneration[]; next_cursor: string | null }) {
  if (page.data.length === 0) return "No generations.";
  const lines = page.data.map((g) =>
    `- ${g.id} · ${g.model} · ${g.status} · ${dollars(g.cost_cents)} · ` +
    `${seconds(g.latency_ms)} · ${utc(g.created_at)}` + (g.output_url ? ` · ${g.output_url}` : "") +
    (g.output_expired ? " · video deleted after the retention period" : "")
  );
  if (page.next_cursor) lines.push(`More: call list_generations with cursor ${page.next_cursor}`);
  return lines.join("\n");
}

export function usageText(u: Usage): string {
  const t = u.totals;
  const recent = u.recent_requests.map((r) =>
    `- ${r.id} · ${r.model_name} · ${r.status} · ${dollars(r.cost_cents)} · ` +
    `${seconds(r.latency_ms)} · ${utc(r.created_at)}`
  );
  return [
    `Balance: ${formatCents(u.credit_balance)}`,
    `Totals: ${t.total_requests} requests, ${t.completed_requests} completed, ` +
    `${t.failed_requests} failed, ${formatCents(t.total_cost_cents)} spent`,
    `Recent requests:`,
    ...(recent.length ? recent : ["- none"]),
  ].join("\n");
}
