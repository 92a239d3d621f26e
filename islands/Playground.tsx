import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { formatCents } from "../lib/format.ts";
import { announceGenerationChanged } from "../components/live.ts";
import { type Refusal, refusalOf } from "../components/refusal.ts";
import { requestSamples } from "../components/code.ts";
import CodeTabs from "./CodeTabs.tsx";

export interface PlaygroundModel {
  slug: string;
  displayName: string;
  durations: number[];
  resolutions: string[];
  aspectRatios: string[];
  imageInput: boolean;
  imageRequired: boolean;
  audio: boolean;
  negativePrompt: boolean;
  seed: boolean;
  defaults: { duration: number; resolution: string; aspectRatio: string; audio?: boolean };
  /** As /v1/models prices it: the cheapest configured route, which is where a request goes. */
  pricing: {
    unit: "second" | "video";
    cents: Record<string, number>;
    audioCents?: Record<string, number>;
  };
}

interface Generation {
  id: string;
  status: "pending" | "processing" | "completed" | "failed" | "cancelled";
  model: string;
  cost_cents: number | null;
  latency_ms: number | null;
  error_message: string | null;
  video_path: string | null;
  balance_cents?: number;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** A message and what to do about it, e.g. add credits, raise a budget or sign in again. */
type FormError = Refusal;

/** The session endpoints answer 401 once the session is gone (signed out elsewhere, expired). */
const SESSION_ENDED: FormError = {
  message: "Your session ended —",
  link: { href: "/login?next=%2Fplayground", label: "sign in again" },
};
const POLL_MS = 1000;

/** The charge for these options, in cents (lib/catalog/pricing.ts priceOn on the cheapest route). */
export function priceCents(
  m: PlaygroundModel,
  o: { duration: number; resolution: string; audio: boolean },
): number | null {
  const table = o.audio && m.pricing.audioCents ? m.pricing.audioCents : m.pricing.cents;
  const perUnit = table[o.resolution];
  if (perUnit === undefined) return null;
  return m.pricing.unit === "second" ? perUnit * o.duration : perUnit;
}

/**
 * The layout's header balance is server-rendered outside this island; it is set here (no inline
 * script under the CSP) so it follows the charge, the settlement and any refund without a reload.
 */
function showBalance(cents: number | undefined) {
  const el = document.querySelector("[data-testid=balance]");
  if (el && typeof cents === "number") el.textContent = formatCents(cents);
}

/** What the form holds; the server renders it (options `selected`), the island keeps it. */
export interface PlaygroundValues {
  model: string;
  prompt: string;
  duration: number;
  resolution: string;
  aspectRatio: string;
  audio: boolean;
}

/**
 * The values to show for `model`: the requested ones where the model offers them, else its
 * defaults. Used by the server (query string, a no-JavaScript post) and by the island alike.
 */
export function valuesFor(
  models: PlaygroundModel[],
  want: Partial<Record<keyof PlaygroundValues, string>>,
): PlaygroundValues {
  const m = models.find((x) => x.slug === want.model) ?? models[0];
  const d = m.defaults;
  const duration = Number(want.duration);
  const priced = (r: string | undefined) =>
    r !== undefined && m.resolutions.includes(r) && m.pricing.cents[r] !== undefined;
  return {
    model: m.slug,
    prompt: want.prompt ?? "",
    duration: m.durations.includes(duration) ? duration : d.duration,
    resolution: priced(want.resolution) ? want.resolution! : d.resolution,
    aspectRatio: m.aspectRatios.includes(want.aspectRatio ?? "")
      ? want.aspectRatio!
      : d.aspectRatio,
    audio: m.audio && (want.audio === undefined ? d.audio ?? false : want.audio === "true"),
  };
}

/** Pick a model and options, see the price, submit, watch it live and play the result. */
export default function Playground(
  props: {
    models: PlaygroundModel[];
    initial: PlaygroundValues;
    error?: Refusal | null;
    /** Where the API is, for "View code". */
    publicUrl?: string;
    /** The newest API key's name and prefix, never the key itself. */
    keyHint?: { name: string; prefix: string } | null;
  },
) {
  const start = Math.max(0, props.models.findIndex((m) => m.slug === props.initial.model));
  const modelIndex = useSignal(start);
  const m = props.models[modelIndex.value];
  const prompt = useSignal(props.initial.prompt);
  const duration = useSignal(props.initial.duration);
  const resolution = useSignal(props.initial.resolution);
  const aspectRatio = useSignal(props.initial.aspectRatio);
  const audio = useSignal(props.initial.audio);
  const imageUrl = useSignal("");
  const negativePrompt = useSignal("");
  const seed = useSignal("");
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<FormError | null>(props.error ?? null);
  const submitting = useSignal(false);
  const gen = useSignal<Generation | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const form = useRef<HTMLFormElement>(null);
  const result = useRef<HTMLElement>(null);

  useEffect(() => () => clearTimeout(timer.current), []);

  // Hydration keeps the server's DOM as it is: if the browser changed a field before this ran
  // (typing, a restored form), the signals take what the user sees so price and request agree.
  const hydrated = useSignal(false);
  useEffect(() => {
    hydrated.value = true;
    const f = form.current;
    if (!f) return;
    const read = (name: string) => (f.elements.namedItem(name) as HTMLSelectElement | null)?.value;
    const v = valuesFor(props.models, {
      model: read("model"),
      duration: read("duration"),
      resolution: read("resolution"),
      aspectRatio: read("aspect_ratio"),
      audio: String((f.elements.namedItem("audio") as HTMLInputElement | null)?.checked ?? false),
      prompt: read("prompt"),
    });
    modelIndex.value = props.models.findIndex((x) => x.slug === v.model);
    duration.value = v.duration;
    resolution.value = v.resolution;
    aspectRatio.value = v.aspectRatio;
    audio.value = v.audio;
    prompt.value = v.prompt;
  }, []);

  const pickModel = (i: number) => {
    modelIndex.value = i;
    const d = props.models[i].defaults;
    duration.value = d.duration;
    resolution.value = d.resolution;
    aspectRatio.value = d.aspectRatio;
    audio.value = d.audio ?? false;
    errors.value = {};
    formError.value = null;
  };

  const price = priceCents(m, {
    duration: duration.value,
    resolution: resolution.value,
    audio: m.audio && audio.value,
  });

  const poll = async (id: string) => {
    try {
      const res = await fetch(`/playground/generations/${encodeURIComponent(id)}`, {
        headers: { Accept: "application/json" },
      });
      if (res.status === 401) {
        formError.value = SESSION_ENDED;
        return; // polling again cannot succeed until the user signs in
      }
      if (res.ok) {
        const before = gen.value?.status;
        gen.value = await res.json();
        showBalance(gen.value?.balance_cents);
        if (gen.value?.status !== before) announceGenerationChanged();
      }
    } catch {
      // A dropped poll is retried on the next tick.
    }
    if (!gen.value || !TERMINAL.has(gen.value.status)) {
      timer.current = setTimeout(() => poll(id), POLL_MS);
    }
  };

  /** The request the form makes: what "Generate" sends and "View code" shows. */
  const requestBody = (): Record<string, unknown> => {
    const body: Record<string, unknown> = {
      model: m.slug,
      prompt: prompt.value,
      duration: duration.value,
      resolution: resolution.value,
    };
    // Sent only when chosen: with an image, some routes follow the image's shape and refuse one.
    if (aspectRatio.value !== m.defaults.aspectRatio) body.aspect_ratio = aspectRatio.value;
    if (m.audio) body.audio = audio.value;
    if (m.imageInput && imageUrl.value.trim()) body.image_url = imageUrl.value.trim();
    if (m.negativePrompt && negativePrompt.value.trim()) {
      body.negative_prompt = negativePrompt.value.trim();
    }
    if (m.seed && seed.value.trim()) body.seed = Number(seed.value);
    return body;
  };

  // Ctrl+Enter (⌘+Enter on a Mac) submits from any field, the prompt included.
  const submitOnCtrlEnter = (e: KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.current?.requestSubmit();
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (submitting.value) return;
    clearTimeout(timer.current);
    errors.value = {};
    formError.value = null;
    const body = requestBody();
    submitting.value = true;
    try {
      const res = await fetch("/playground/generations", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const data = await res.json().catch(() => ({}));
      if (res.status === 401) {
        formError.value = SESSION_ENDED;
        return;
      }
      if (!res.ok) {
        const param = data?.error?.param as string | null | undefined;
        const message = data?.message ?? `Request failed (${res.status})`;
        const field = param?.split(".")[0];
        if (field && FIELDS.has(field)) errors.value = { [field]: message };
        else formError.value = refusalOf({ code: data?.error?.code, message, data: data?.data });
        return;
      }
      showBalance(data.balance_cents);
      gen.value = {
        id: data.id,
        status: data.status,
        model: m.slug,
        cost_cents: null,
        latency_ms: null,
        error_message: null,
        video_path: null,
      };
      announceGenerationChanged();
      timer.current = setTimeout(() => poll(data.id), POLL_MS);
      // On a phone the result is below the form: bring it into view.
      const r = result.current;
      if (r && r.getBoundingClientRect().top > innerHeight) {
        r.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    } catch {
      formError.value = { message: "Could not reach the server. Try again." };
    } finally {
      submitting.value = false;
    }
  };

  const err = (field: string) =>
    errors.value[field]
      ? <p class="field-error" id={`pg-${field}-error`} role="alert">{errors.value[field]}</p>
      : null;
  const described = (field: string) => errors.value[field] ? `pg-${field}-error` : undefined;
  const g = gen.value;

  return (
    <div class="playground">
      {/* Without JavaScript the same form posts to the page, which answers with the result. */}
      <form
        class="card playground-form"
        method="post"
        action="/playground"
        onSubmit={submit}
        onKeyDown={submitOnCtrlEnter}
        noValidate
        ref={form}
      >
        <label class="field">
          <span>Model</span>
          <select
            name="model"
            value={m.slug}
            aria-describedby={described("model")}
            onChange={(e) =>
              pickModel(
                props.models.findIndex((x) => x.slug === (e.target as HTMLSelectElement).value),
              )}
          >
            {props.models.map((x) => (
              <option key={x.slug} value={x.slug} selected={x.slug === m.slug}>
                {x.displayName} ({x.slug})
              </option>
            ))}
          </select>
          {err("model")}
        </label>
        <label class="field">
          <span>Prompt</span>
          <textarea
            name="prompt"
            value={prompt.value}
            maxLength={4000}
            required
            aria-invalid={errors.value.prompt ? "true" : undefined}
            aria-describedby={described("prompt")}
            placeholder="A lighthouse at dusk, waves rolling in, cinematic"
            onInput={(e) => prompt.value = (e.target as HTMLTextAreaElement).value}
          />
          {err("prompt")}
        </label>
        <div class="playground-options">
          <label class="field">
            <span>Duration</span>
            <select
              name="duration"
              value={String(duration.value)}
              aria-describedby={described("duration")}
              onChange={(e) => duration.value = Number((e.target as HTMLSelectElement).value)}
            >
              {m.durations.map((d) => (
                <option key={d} value={String(d)} selected={d === duration.value}>{d} s</option>
              ))}
            </select>
            {err("duration")}
          </label>
          <label class="field">
            <span>Resolution</span>
            <select
              name="resolution"
              value={resolution.value}
              aria-describedby={described("resolution")}
              onChange={(e) => resolution.value = (e.target as HTMLSelectElement).value}
            >
              {m.resolutions.map((r) => (
                <option
                  key={r}
                  value={r}
                  selected={r === resolution.value}
                  disabled={m.pricing.cents[r] === undefined}
                >
                  {r}
                </option>
              ))}
            </select>
            {err("resolution")}
          </label>
          <label class="field">
            <span>Aspect ratio</span>
            <select
              name="aspect_ratio"
              value={aspectRatio.value}
              aria-describedby={described("aspect_ratio")}
              onChange={(e) => aspectRatio.value = (e.target as HTMLSelectElement).value}
            >
              {m.aspectRatios.map((r) => (
                <option key={r} value={r} selected={r === aspectRatio.value}>{r}</option>
              ))}
            </select>
            {err("aspect_ratio")}
          </label>
        </div>
        {m.imageInput && (
          <label class="field">
            <span>Image URL {m.imageRequired ? "(required)" : "(optional)"}</span>
            <input
              type="url"
              name="image_url"
              value={imageUrl.value}
              required={m.imageRequired}
              placeholder="https://…/start-frame.png"
              aria-describedby={described("image_url")}
              onInput={(e) => imageUrl.value = (e.target as HTMLInputElement).value}
            />
            {err("image_url")}
          </label>
        )}
        {m.negativePrompt && (
          <label class="field">
            <span>Negative prompt (optional)</span>
            <input
              name="negative_prompt"
              value={negativePrompt.value}
              aria-describedby={described("negative_prompt")}
              onInput={(e) => negativePrompt.value = (e.target as HTMLInputElement).value}
            />
            {err("negative_prompt")}
          </label>
        )}
        <div class="playground-options">
          {m.seed && (
            <label class="field">
              <span>Seed (optional)</span>
              <input
                type="number"
                name="seed"
                min="0"
                step="1"
                inputMode="numeric"
                value={seed.value}
                aria-describedby={described("seed")}
                onInput={(e) => seed.value = (e.target as HTMLInputElement).value}
              />
              {err("seed")}
            </label>
          )}
          {m.audio && (
            <label class="playground-check">
              <input
                type="checkbox"
                name="audio"
                checked={audio.value}
                onChange={(e) => audio.value = (e.target as HTMLInputElement).checked}
              />
              <span>Generate audio</span>
            </label>
          )}
        </div>
        <p class="estimate">
          <span>Price</span>
          <strong data-testid="price">{price === null ? "—" : formatCents(price)}</strong>
        </p>
        {formError.value && (
          <p class="field-error playground-form-error" role="alert">
            {formError.value.message}
            {formError.value.link && (
              <>
                {" "}
                <a href={formError.value.link.href}>{formError.value.link.label}</a>
              </>
            )}
          </p>
        )}
        <div class="actions">
          <button class="button primary" type="submit" disabled={submitting.value}>
            {submitting.value ? "Submitting…" : "Generate"}
          </button>
          {/* Without JavaScript the options cannot follow the model: this reloads them. */}
          {!hydrated.value && (
            <button class="button" type="submit" formmethod="get" formaction="/playground">
              Show options for this model
            </button>
          )}
        </div>
        <details class="playground-code" data-testid="view-code">
          <summary>View code</summary>
          <p class="playground-muted">
            The request this form makes, as it is now. {props.keyHint
              ? (
                <>
                  Set <code>PIPEVIDEO_KEY</code> to your key “{props.keyHint.name}” (
                  <code data-testid="key-prefix">{props.keyHint.prefix}…</code>
                  ), shown once when you created it, or create one on <a href="/keys">API keys</a>.
                </>
              )
              : (
                <>
                  Create a key on <a href="/keys">API keys</a> and set it as{" "}
                  <code>PIPEVIDEO_KEY</code>.
                </>
              )}
          </p>
          <CodeTabs
            id="pg-code"
            samples={requestSamples(
              props.publicUrl ?? "",
              "POST",
              "/v1/video/generations",
              requestBody(),
            )}
          />
        </details>
      </form>

      <section
        class="card playground-result"
        aria-labelledby="pg-result-title"
        ref={result}
        tabIndex={-1}
      >
        <h2 id="pg-result-title">Result</h2>
        {/* Present from the first render, so its first message is announced. */}
        <p aria-live="polite" data-testid="live">
          {g && (
            <>
              <span class={`status status-${g.status}`} data-testid="status">{g.status}</span>{" "}
              <a href={`/generations/${g.id}`}>
                <code>{g.id}</code>
              </a>
            </>
          )}
        </p>
        {!g && (
          <p class="playground-muted">
            Your video appears here. Nothing is charged until you submit.
          </p>
        )}
        {g && (
          <>
            {!TERMINAL.has(g.status) && (
              <p class="playground-muted">Checking every second; you can leave this page.</p>
            )}
            {g.status === "failed" && <p class="field-error">{g.error_message} (refunded)</p>}
            {g.status === "completed" && g.video_path && (
              <>
                <video
                  class="playground-video"
                  controls
                  playsInline
                  preload="metadata"
                  src={g.video_path}
                  data-testid="video"
                />
                <p class="playground-muted">
                  Charged {formatCents(g.cost_cents ?? 0)}
                  {g.latency_ms !== null && ` · ready in ${(g.latency_ms / 1000).toFixed(1)} s`} ·
                  {" "}
                  <a href={g.video_path} download>Download MP4</a>
                </p>
              </>
            )}
          </>
        )}
      </section>
    </div>
  );
}

const FIELDS = new Set([
  "model",
  "prompt",
  "duration",
  "resolution",
  "aspect_ratio",
  "image_url",
  "negative_prompt",
  "seed",
]);
