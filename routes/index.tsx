import { page } from "fresh";
import { define } from "../utils.ts";
import CopyButton from "../islands/CopyButton.tsx";
import PriceEstimator, { type EstimatorModel } from "../islands/PriceEstimator.tsx";
import { everyCatalogModel } from "../lib/dashboard/catalog_view.ts";
import { loadShell } from "../lib/dashboard/shell.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    // Signed in, the header is the dashboard's (who, which org, the balance).
    const signedIn = Boolean(await loadShell(ctx.state, ctx.req));
    // The same models and prices as /models: every catalog model, each said to be offered or not.
    const models: EstimatorModel[] = everyCatalogModel(services).map((
      { model: m, configured },
    ) => ({
      slug: m.slug,
      displayName: m.display_name,
      unit: m.pricing.unit,
      cents: m.pricing.cents,
      durations: m.capabilities.durations,
      configured,
    }));
    const headers: HeadersInit = signedIn ? { "Cache-Control": "no-store" } : {};
    return page({ models, signedIn, publicUrl: services.config.publicUrl }, { headers });
  },
});

const homeCurl = (publicUrl: string) =>
  `curl ${publicUrl}/v1/video/generations \\
  -H "Authorization: Bearer $PIPEVIDEO_KEY" \\
  --json '{"model":"local/preview","prompt":"a lighthouse at dusk"}'`;

export default define.page<typeof handler>(function Home({ data }) {
  return (
    <main id="main">
      <section class="hero">
        <div class="container hero-grid">
          <div>
            <p class="eyebrow">Open-source video generation gateway</p>
            <h1>One API for every video model.</h1>
            <p class="lead">
              Pipevideo puts Google Veo, Runway, Luma, Kling, Hailuo, Wan, Seedance and a built-in
              offline model behind one REST API, one API key and one prepaid credit balance. Credits
              are charged when you submit; a failed generation is refunded automatically, exactly
              once. Self-host it with two commands.
            </p>
            <p class="actions">
              {data.signedIn
                ? <a class="button primary" href="/playground">Open the dashboard</a>
                : <a class="button primary" href="/login">Get started</a>}
              <a class="button" href="/docs">Read the docs</a>
            </p>
            <div class="home-curl-box">
              <pre
                class="home-curl"
                aria-label="A request with curl"
              ><code>{homeCurl(data.publicUrl)}</code></pre>
              <CopyButton value={homeCurl(data.publicUrl)} label="Copy" />
            </div>
          </div>
          <div class="hero-side">
            <figure class="sample-clip">
              {/* A real output of local/preview, 3 s at 360p, with no sound. */}
              <video src="/sample.mp4" muted loop autoplay playsInline preload="metadata" />
              <figcaption>
                Made by the built-in <code>local/preview</code>{" "}
                model from “A lighthouse at dusk, waves rolling in”.
              </figcaption>
            </figure>
            <PriceEstimator models={data.models} />
          </div>
        </div>
      </section>
      <section class="container features">
        <article>
          <h2>Correct with your money</h2>
          <p>
            Every balance change is one atomic commit with its ledger entry. Refunds happen once.
          </p>
        </article>
        <article>
          <h2>Submit, then poll or get a webhook</h2>
          <p>Requests answer at once; signed webhooks tell you when the video is ready.</p>
        </article>
        <article>
          <h2>Runs anywhere</h2>
          <p>Deno and a KV file on disk. The local model works with no network at all.</p>
        </article>
      </section>
    </main>
  );
});
