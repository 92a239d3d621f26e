import { page } from "fresh";
import { z } from "zod";
import { define } from "../../utils.ts";
import { getModelDetail, type ModelListItem } from "../../lib/catalog/public.ts";
import { everyCatalogModel } from "../../lib/dashboard/catalog_view.ts";
import type { ModelMetrics } from "../../lib/db/usage.ts";
import { MODELS } from "../../lib/catalog/mod.ts";
import { formatCents } from "../../lib/format.ts";
import { parseWith } from "../../lib/http/json.ts";
import type { ProviderId } from "../../lib/providers/types.ts";

const filterSchema = z.object({
  maker: z.string().max(50).optional().catch(undefined),
  image: z.enum(["yes", "no"]).optional().catch(undefined),
  audio: z.enum(["yes", "no"]).optional().catch(undefined),
});

// What an operator sets to offer a provider's models (DESIGN.md, "Configuration").
const PROVIDER_ENV: Record<ProviderId, string | null> = {
  local: null,
  gemini: "GEMINI_API_KEY",
  fal: "FAL_KEY",
  replicate: "REPLICATE_API_TOKEN",
  runway: "RUNWAYML_API_SECRET",
  luma: "LUMAAI_API_KEY",
};

export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const filter = parseWith(filterSchema, Object.fromEntries(ctx.url.searchParams));
    const catalog = everyCatalogModel(services);
    const yes = (v: "yes" | "no" | undefined, has: boolean) => !v || (v === "yes") === has;
    const shown = catalog.filter(({ model: m }) =>
      (!filter.maker || m.maker.slug === filter.maker) &&
      yes(filter.image, m.capabilities.image_input) && yes(filter.audio, m.capabilities.audio)
    );
    // Measured here only for what runs here.
    const metrics = await Promise.all(
      shown.map(async (e) =>
        e.configured ? (await getModelDetail(services, e.model.slug)).metrics : null
      ),
    );
    const env = (slug: string) => {
      const m = (services.generation.models ?? MODELS).find((x) => x.slug === slug);
      return [
        ...new Set(m?.routes.map((r) => PROVIDER_ENV[r.provider]).filter(Boolean)),
      ] as string[];
    };
    const all = catalog.map((e) => e.model);
    const makers = [...new Map(all.map((m) => [m.maker.slug, m.maker.name])).entries()];
    // Which variable to set is for whoever runs the server: shown in development only.
    const operator = !services.config.production;
    return page({
      filter,
      makers,
      models: shown.map((e) => ({
        ...e,
        env: e.configured ? [] : env(e.model.slug),
      })),
      metrics,
      total: catalog.filter((e) => e.configured).length,
      unconfiguredCount: catalog.filter((e) => !e.configured).length,
      operator,
    });
  },
});

function PriceTable({ m }: { m: ModelListItem }) {
  const p = m.pricing;
  const unit = p.unit === "second" ? "per second" : "per video";
  const rows = Object.entries(p.cents);
  return (
    <table class="models-prices">
      <caption class="visually-hidden">Price {unit} for {m.display_name}</caption>
      <thead>
        <tr>
          <th scope="col">Resolution</th>
          <th scope="col">{p.unit === "second" ? "Per second" : "Per video"}</th>
          {p.audio_cents && <th scope="col">With audio</th>}
          <th scope="col">{m.capabilities.defaults.duration} s clip</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([res, cents]) => {
          const clip = p.unit === "second" ? cents * m.capabilities.defaults.duration : cents;
          return (
            <tr key={res}>
              <th scope="row">{res}</th>
              <td>{formatCents(cents)}</td>
              {p.audio_cents && <td>{formatCents(p.audio_cents[res] ?? cents)}</td>}
              <td>{formatCents(clip)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Metrics({ x }: { x: ModelMetrics }) {
  if (x.totalRequests === 0) {
    return <p class="models-muted">No requests on this server in the last 7 days.</p>;
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return (
    <dl class="models-metrics">
      <div>
        <dt>Success (7 days)</dt>
        <dd data-testid="success-rate">{x.successRate}%</dd>
      </div>
      <div>
        <dt>p50 latency</dt>
        <dd>{s(x.p50LatencyMs)}</dd>
      </div>
      <div>
        <dt>p95 latency</dt>
        <dd>{s(x.p95LatencyMs)}</dd>
      </div>
      <div>
        <dt>Requests</dt>
        <dd>{x.totalRequests}</dd>
      </div>
    </dl>
  );
}

export default define.page<typeof handler>(function Models({ data }) {
  const f = data.filter;
  const filtered = Boolean(f.maker || f.image || f.audio);
  return (
    <main id="main" class="container models-page">
      <p class="eyebrow">Catalog</p>
      <h1>Models</h1>
      <p class="lead">
        {data.total} model{data.total === 1 ? "" : "s"} available on this server
        {data.unconfiguredCount > 0 &&
          `, ${data.unconfiguredCount} more in the catalog not configured here`}. Prices are what a
        request is charged, on the cheapest route; success rate and latency are measured here over
        the last 7 days.
      </p>
      <form class="card models-filter" method="get" action="/models" role="search">
        <label class="field">
          <span>Maker</span>
          <select name="maker">
            <option value="">Any maker</option>
            {data.makers.map(([slug, name]) => (
              <option key={slug} value={slug} selected={f.maker === slug}>{name}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Image input</span>
          <select name="image">
            <option value="">Any</option>
            <option value="yes" selected={f.image === "yes"}>Takes an image</option>
            <option value="no" selected={f.image === "no"}>Text only</option>
          </select>
        </label>
        <label class="field">
          <span>Audio</span>
          <select name="audio">
            <option value="">Any</option>
            <option value="yes" selected={f.audio === "yes"}>Generates audio</option>
            <option value="no" selected={f.audio === "no"}>Silent</option>
          </select>
        </label>
        <div class="models-filter-actions">
          <button class="button primary" type="submit">Filter</button>
          {filtered && <a class="button" href="/models">Clear</a>}
        </div>
      </form>

      {data.models.length === 0 && (
        <div class="card models-empty" role="status">
          <h2>No model matches these filters</h2>
          <p>
            <a href="/models">Show all models</a>
            {data.unconfiguredCount > 0 &&
              " or configure another provider to offer more."}
          </p>
        </div>
      )}

      <ul class="models-list">
        {data.models.map(({ model: m, configured, env }, i) => (
          <li
            key={m.slug}
            class={`card models-card${configured ? "" : " models-card-unconfigured"}`}
            data-slug={configured ? m.slug : undefined}
            data-unconfigured={configured ? undefined : m.slug}
          >
            <div class="models-head">
              <div>
                <h2>{m.display_name}</h2>
                <p class="models-muted">
                  <code>{m.slug}</code> · {m.maker.name} · {m.family.name}
                </p>
              </div>
              {configured
                ? (
                  <a class="button" href={`/playground?model=${encodeURIComponent(m.slug)}`}>
                    Try it
                  </a>
                )
                : (
                  <span class="badge" data-testid="not-configured">
                    not configured on this server
                  </span>
                )}
            </div>
            <p>{m.description}</p>
            <ul class="models-caps" aria-label="Capabilities">
              <li>{m.capabilities.durations.join(", ")} s</li>
              <li>{m.capabilities.resolutions.join(" · ")}</li>
              <li>{m.capabilities.aspect_ratios.join(" · ")}</li>
              <li>
                {m.capabilities.image_required
                  ? "Needs an image"
                  : m.capabilities.image_input
                  ? "Text or image"
                  : "Text only"}
              </li>
              <li>{m.capabilities.audio ? "Audio" : "No audio"}</li>
            </ul>
            <div class="models-grid">
              <PriceTable m={m} />
              <div>
                {data.metrics[i]
                  ? (
                    <>
                      <Metrics x={data.metrics[i]!} />
                      <p class="models-muted">
                        Routes: {data.metrics[i]!.routes.map((r) =>
                          r.breaker === "closed"
                            ? r.provider
                            : `${r.provider} (${
                              r.breaker === "open" ? "paused: failing" : "retrying"
                            })`
                        ).join(", ")}
                      </p>
                    </>
                  )
                  : (
                    <p class="models-muted">
                      Not configured on this server: the price is what a request would be charged
                      once its provider is.
                      {data.operator && env.length > 0 && (
                        <>
                          {" "}To offer it, set {env.map((e, i) => (
                            <span key={e}>
                              {i > 0 && " or "}
                              <code>{e}</code>
                            </span>
                          ))}.
                        </>
                      )}
                    </p>
                  )}
              </div>
            </div>
          </li>
        ))}
      </ul>
    </main>
  );
});
