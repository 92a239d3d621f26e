import { page } from "fresh";
import { define, type State } from "../../../utils.ts";
import { listModels } from "../../../lib/catalog/public.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { AppError } from "../../../lib/errors.ts";
import { parseGenerationBody } from "../../../lib/generations/schema.ts";
import { createGeneration, listGenerations } from "../../../lib/generations/service.ts";
import { enforceRequestLimit } from "../../../lib/ratelimit.ts";
import type { GenerationRecord } from "../../../lib/db/generations.ts";
import Playground, {
  type PlaygroundModel,
  type PlaygroundValues,
  valuesFor,
} from "../../../islands/Playground.tsx";
import { type KeyHint, keyHintFor } from "../../../components/your_key.tsx";
import { RecentRuns } from "../../../components/generations.tsx";
import { GetStartedChecklist } from "../../../components/checklist.tsx";
import { type GettingStarted, gettingStarted, isDone } from "../../../lib/dashboard/checklist.ts";
import { Flash } from "../../../components/ui.tsx";
import { type Refusal, refusalOf } from "../../../components/refusal.ts";
import LiveSection from "../../../islands/LiveSection.tsx";

interface Data {
  models: PlaygroundModel[];
  initial: PlaygroundValues;
  recent: GenerationRecord[];
  error: Refusal | null;
  /** Until every first step is done. */
  checklist: GettingStarted | null;
  development: boolean;
  joined: boolean;
  publicUrl: string;
  keyHint: KeyHint | null;
}

export const handler = define.handlers<Data>({
  async GET(ctx) {
    const q = Object.fromEntries(ctx.url.searchParams);
    const d = await load(ctx.state, q, null);
    d.joined = q.joined === "1";
    return page(d);
  },
  /** The form without JavaScript: the same checks and charge as the island, then its page. */
  async POST(ctx) {
    const { services, org } = ctx.state;
    const form = await readFormObject(ctx.req);
    const str = (k: string) => typeof form[k] === "string" ? (form[k] as string).trim() : "";
    const want = {
      model: str("model"),
      prompt: str("prompt"),
      duration: str("duration"),
      resolution: str("resolution"),
      aspectRatio: str("aspect_ratio"),
      audio: form.audio === undefined ? "false" : "true",
    };
    try {
      await enforceRequestLimit(services, `org:${org!.id}`);
      const body: Record<string, unknown> = {
        model: want.model,
        prompt: want.prompt,
        duration: Number(want.duration) || undefined,
        resolution: want.resolution || undefined,
        aspect_ratio: want.aspectRatio || undefined,
        audio: want.audio === "true",
        image_url: str("image_url") || undefined,
        negative_prompt: str("negative_prompt") || undefined,
        seed: str("seed") ? Number(str("seed")) : undefined,
      };
      const created = await createGeneration(
        services.generation,
        org!.id,
        parseGenerationBody(body),
        { applicationName: "playground" },
      );
      return ctx.redirect(`/generations/${created.id}`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const refusal = refusalOf({ code: err.code, message: err.message, data: err.data });
      return page(await load(ctx.state, want, refusal), { status: err.status });
    }
  },
});

async function load(
  state: State,
  want: Record<string, string>,
  error: Refusal | null,
): Promise<Data> {
  const models = playgroundModels(state);
  const [recent, steps, keyHint] = await Promise.all([
    listGenerations(state.services.kv, state.org!.id, { limit: 10 }),
    gettingStarted(state.services, state.org!.id),
    keyHintFor(state),
  ]);
  return {
    models,
    initial: valuesFor(models, { model: "local/preview", ...want }),
    recent: recent.data,
    error,
    checklist: isDone(steps) ? null : steps,
    development: !state.services.config.production,
    joined: false,
    publicUrl: state.services.config.publicUrl,
    keyHint,
  };
}

function playgroundModels(state: State): PlaygroundModel[] {
  return listModels(state.services).map((m) => ({
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
}

export default define.page<typeof handler, Data>(function PlaygroundPage({ data, state }) {
  return (
    <div class="playground-page">
      {data.joined && (
        <Flash kind="success">
          Welcome to <strong>{state.org?.name}</strong>: you are now a member.
        </Flash>
      )}
      {/* Both follow the generation live (islands/LiveSection.tsx): no reload needed. */}
      <LiveSection targetIds={["checklist-live", "recent-runs-live"]} intervalMs={10_000} />
      <div id="checklist-live">
        {data.checklist && (
          <GetStartedChecklist state={data.checklist} development={data.development} />
        )}
      </div>
      <p class="eyebrow">Playground</p>
      <h1>Try a model</h1>
      <p class="lead">
        Generations here are charged to <strong>{state.org?.name}</strong>{" "}
        like API requests, and show up on <a href="/usage">Usage</a>. <code>local/preview</code>
        {" "}
        renders offline in seconds.
      </p>
      <Playground
        models={data.models}
        initial={data.initial}
        error={data.error}
        publicUrl={data.publicUrl}
        keyHint={data.keyHint}
      />
      <section class="recent-runs" aria-labelledby="recent-runs-title">
        <h2 id="recent-runs-title">Recent runs in {state.org?.name}</h2>
        <div id="recent-runs-live">
          <RecentRuns runs={data.recent} />
        </div>
      </section>
    </div>
  );
});
