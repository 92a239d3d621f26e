import { page } from "fresh";
import { define } from "../../../utils.ts";
import { listModels } from "../../../lib/models.ts";
import Playground, { type PlaygroundModel } from "../../../islands/Playground.tsx";

export const handler = define.handlers({
  GET(ctx) {
    const models: PlaygroundModel[] = listModels(ctx.state.services).map((m) => ({
      slug: m.slug,
      displayName: m.display_name,
      durations: m.capabilities.durations,
      resolutions: m.capabilities.resolutions,
      aspectRatios: m.capabilities.aspect_ratios,
      imageInput: m.capabilities.image_input,
      imageRequired: m.capabilities.image_required,
      audio: m.capabilities.audio,
      negativePrompt: m.capabilities.negative_prompt,
      seed: m.capabilities.seed,
      defaults: {
        duration: m.capabilities.defaults.duration,
        resolution: m.capabilities.defaults.resolution,
        aspectRatio: m.capabilities.defaults.aspect_ratio,
        ...(m.capabilities.defaults.audio !== undefined
          ? { audio: m.capabilities.defaults.audio }
          : {}),
      },
      pricing: {
        unit: m.pricing.unit,
        cents: m.pricing.cents,
        ...(m.pricing.audio_cents ? { audioCents: m.pricing.audio_cents } : {}),
      },
    }));
    return page({ models, initial: ctx.url.searchParams.get("model") ?? "local/preview" });
  },
});

export default define.page<typeof handler>(function PlaygroundPage({ data, state }) {
  return (
    <div class="playground-page">
      <p class="eyebrow">Playground</p>
      <h1>Try a model</h1>
      <p class="lead">
        Generations here are charged to <strong>{state.org?.name}</strong>{" "}
        like API requests, and show up on <a href="/usage">Usage</a>. <code>local/preview</code>
        {" "}
        renders offline in seconds.
      </p>
      <Playground models={data.models} initial={data.initial} />
    </div>
  );
});
