import type { GenerationRecord } from "../db/generations.ts";

/** Below this until the video exists: an estimate never claims to be done. */
const ESTIMATE_CAP = 95;
/** The time constant of the estimate, per second of video asked for. */
const EXPECTED_MS_PER_VIDEO_SECOND = 6_000;

/**
 * A generation's progress, 0–100: the provider's figure where it reports one (`progress` on the
 * record), else an estimate from how long the current attempt has run, rising quickly at first
 * and approaching (never reaching) ESTIMATE_CAP; 100 once completed.
 */
export function progressOf(g: GenerationRecord, nowMs: number): number {
  if (g.status === "completed") return 100;
  if (g.status !== "processing") return 0;
  if (typeof g.progress === "number") return Math.max(0, Math.min(99, Math.round(g.progress)));
  const started = g.attempts.at(-1)?.started_at ?? g.created_at;
  const tau = EXPECTED_MS_PER_VIDEO_SECOND * Math.max(1, g.options.duration);
  const elapsed = Math.max(0, nowMs - started);
  return Math.floor(ESTIMATE_CAP * (1 - Math.exp(-elapsed / tau)));
}
