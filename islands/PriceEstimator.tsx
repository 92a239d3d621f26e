import { formatCents } from "../lib/format.ts";
import { useSignal } from "@preact/signals";

export interface EstimatorModel {
  slug: string;
  displayName: string;
  unit: "second" | "video";
  /** Cents per unit by resolution. */
  cents: Record<string, number>;
  durations: number[];
  /** False when its provider is not configured on this server (priced all the same). */
  configured: boolean;
}

/** Lets a visitor see what a generation costs before signing up; proves islands hydrate. */
export default function PriceEstimator(props: { models: EstimatorModel[] }) {
  const modelIndex = useSignal(0);
  const model = props.models[modelIndex.value];
  const durationIndex = useSignal(Math.min(2, model.durations.length - 1));
  const resolutions = Object.keys(model.cents);
  const resolution = useSignal(resolutions[0]);
  const duration = model.durations[Math.min(durationIndex.value, model.durations.length - 1)];
  const perUnit = model.cents[resolution.value] ?? model.cents[resolutions[0]];
  const total = model.unit === "second" ? perUnit * duration : perUnit;
  const step = (delta: number) => {
    durationIndex.value = Math.max(
      0,
      Math.min(model.durations.length - 1, durationIndex.value + delta),
    );
  };

  return (
    <div class="card estimator">
      <label class="field">
        <span>Model</span>
        <select
          value={String(modelIndex.value)}
          onChange={(e) => {
            modelIndex.value = Number((e.target as HTMLSelectElement).value);
            resolution.value = Object.keys(props.models[modelIndex.value].cents)[0];
          }}
        >
          {props.models.map((m, i) => (
            <option value={String(i)} key={m.slug} selected={i === modelIndex.value}>
              {m.displayName}
              {m.configured ? "" : " (not configured on this server)"}
            </option>
          ))}
        </select>
      </label>
      <div class="field">
        <span id="duration-label">Duration</span>
        <div class="stepper" role="group" aria-labelledby="duration-label">
          <button type="button" aria-label="Shorter" onClick={() => step(-1)}>−</button>
          <output data-testid="duration">{duration} s</output>
          <button type="button" aria-label="Longer" onClick={() => step(1)}>+</button>
        </div>
      </div>
      <label class="field">
        <span>Resolution</span>
        <select
          value={resolution.value}
          onChange={(e) => resolution.value = (e.target as HTMLSelectElement).value}
        >
          {resolutions.map((r) => (
            <option key={r} value={r} selected={r === resolution.value}>{r}</option>
          ))}
        </select>
      </label>
      <p class="estimate">
        <span>Estimated charge</span>
        <strong data-testid="price">{formatCents(total)}</strong>
      </p>
      {!model.configured && (
        <p class="muted" data-testid="estimator-unconfigured">
          Not configured on this server: this is what it would cost once its provider is.
        </p>
      )}
    </div>
  );
}
