import { Head, page } from "fresh";
import { define } from "../../../utils.ts";
import {
  failureAdvice,
  type GenerationView,
  loadGenerationView,
  requestBodyOf,
} from "../../../lib/dashboard/generation.ts";
import { requestSamples } from "../../../components/code.ts";
import { StatusBadge } from "../../../components/generations.tsx";
import { formatCents } from "../../../lib/format.ts";
import CodeTabs from "../../../islands/CodeTabs.tsx";
import type { CodeSample } from "../../../islands/CodeTabs.tsx";
import { When } from "../../../components/time.tsx";

interface Data extends GenerationView {
  samples: CodeSample[];
}

export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { services, org } = ctx.state;
    const view = await loadGenerationView(services, org!.id, ctx.params.id);
    const samples = requestSamples(
      services.config.publicUrl,
      "POST",
      "/v1/video/generations",
      requestBodyOf(view.g),
    );
    return page({ ...view, samples });
  },
});

const KIND: Record<string, string> = {
  topup: "Top-up",
  charge: "Charge",
  refund: "Refund",
  adjustment: "Adjustment",
};

export default define.page<typeof handler, Data>(function GenerationPage({ data }) {
  const { g } = data;
  const o = g.options;
  const ran = g.attempts.at(-1);
  const advice = g.status === "failed" ? failureAdvice(g.error_message) : null;
  return (
    <div class="generation-page">
      <Head>
        <title>Generation {g.id} · Pipevideo</title>
      </Head>
      <p class="eyebrow">
        <a href="/usage">Usage</a> / Generation
      </p>
      <h1 class="generation-title">
        <StatusBadge status={g.status} /> <code data-testid="generation-id">{g.id}</code>
      </h1>
      <p class="lead generation-prompt">{o.prompt}</p>

      {g.status === "failed" && (
        <div class="flash flash-error" role="alert" data-testid="generation-error">
          <p>
            <strong>It failed:</strong> {g.error_message}
          </p>
          {advice && <p>{advice}</p>}
          {g.refunded_cents > 0 && (
            <p>{formatCents(g.refunded_cents)} was refunded to your balance.</p>
          )}
          <p>
            <a class="button small" href={`/playground?model=${encodeURIComponent(g.model)}`}>
              Try again in the Playground
            </a>
          </p>
        </div>
      )}

      <div class="generation-grid">
        <section class="card" aria-labelledby="gen-details">
          <h2 id="gen-details">Details</h2>
          <dl class="details-list">
            <dt>Model</dt>
            <dd>
              <code>{g.model}</code>
            </dd>
            <dt>Route that ran</dt>
            <dd data-testid="route">
              {ran ? `${ran.provider} (${ran.model})` : "Not sent to a provider yet"}
            </dd>
            <dt>Options</dt>
            <dd>
              {o.duration} s · {o.resolution} · {o.aspect_ratio}
              {o.audio ? " · audio" : ""}
              {o.seed !== undefined ? ` · seed ${o.seed}` : ""}
            </dd>
            {o.negative_prompt && (
              <>
                <dt>Negative prompt</dt>
                <dd>{o.negative_prompt}</dd>
              </>
            )}
            {o.image_url && (
              <>
                <dt>Start image</dt>
                <dd class="break">{o.image_url}</dd>
              </>
            )}
            <dt>Cost</dt>
            <dd data-testid="cost">
              {g.cost_cents === null ? `${formatCents(g.charged_cents)} held` : formatCents(
                g.cost_cents,
              )}
            </dd>
            {g.latency_ms !== null && (
              <>
                <dt>Ready in</dt>
                <dd>{(g.latency_ms / 1000).toFixed(1)} s</dd>
              </>
            )}
            <dt>Source</dt>
            <dd>{g.application_name ?? (g.api_key_id ? `API key ${g.api_key_id}` : "API")}</dd>
          </dl>
        </section>

        <section class="card" aria-labelledby="gen-timeline">
          <h2 id="gen-timeline">Timeline</h2>
          <ol class="timeline" data-testid="timeline">
            {data.timeline.map((t, i) => (
              <li key={i}>
                <When ms={t.at} precision="second" />
                <span>
                  {t.label}
                  {t.detail && <span class="muted">{` — ${t.detail}`}</span>}
                </span>
              </li>
            ))}
          </ol>
        </section>
      </div>

      {data.videoPath && (
        <section class="card" aria-labelledby="gen-video">
          <h2 id="gen-video">Video</h2>
          <video
            class="playground-video"
            controls
            playsInline
            preload="metadata"
            src={data.videoPath}
            data-testid="video"
          />
          <p>
            <a class="button" href={data.videoPath} download={`${g.id}.mp4`}>Download MP4</a>
          </p>
        </section>
      )}

      <section class="card" aria-labelledby="gen-ledger">
        <h2 id="gen-ledger">Ledger entries</h2>
        {data.ledger.length === 0
          ? <p>No entries.</p>
          : (
            <ul class="plain-list" data-testid="ledger">
              {data.ledger.map((e) => (
                <li key={e.id}>
                  <strong>{KIND[e.kind]}</strong> {formatCents(e.amount_cents)}{" "}
                  <span class="muted">
                    <When ms={e.created_at} precision="second" />
                    {e.reason ? ` · ${e.reason}` : ""}
                  </span>
                </li>
              ))}
            </ul>
          )}
      </section>

      <section class="card" aria-labelledby="gen-webhooks">
        <h2 id="gen-webhooks">Webhook deliveries</h2>
        {data.deliveries.length === 0
          ? <p>No webhook deliveries for this generation.</p>
          : (
            <ul class="plain-list" data-testid="deliveries">
              {data.deliveries.map((d) => (
                <li key={d.id}>
                  <span class={`badge badge-${d.status}`}>{d.status}</span> {d.endpoint_id
                    ? <a class="break" href={`/webhooks/${d.endpoint_id}#${d.id}`}>{d.url}</a>
                    : <span class="break">{d.url}</span>}{" "}
                  <span class="muted">
                    {d.attempt_count} attempt{d.attempt_count === 1 ? "" : "s"} ·{" "}
                    <When ms={d.created_at} precision="second" />
                  </span>
                </li>
              ))}
            </ul>
          )}
      </section>

      <section class="card" aria-labelledby="gen-code">
        <h2 id="gen-code">Make this request from code</h2>
        <CodeTabs samples={data.samples} id="gen-code-tabs" />
      </section>
    </div>
  );
});
