/**
 * The catalog's upstream costs against the providers' published figures, recorded here by hand
 * with their source and date (not read from the catalog), so a price typed wrong in one place is
 * caught by the other. Derived figures (Seedance's tokens, Luma's pixels) are marked as such.
 */
import assert from "node:assert/strict";
import { MODELS } from "../../lib/catalog/mod.ts";

interface Published {
  /** USD per unit, by resolution; `audio` when sound costs differently. */
  usd: Record<string, number>;
  audio?: Record<string, number>;
  unit: "second" | "video";
  source: string;
  checked: string;
}

const PUBLISHED: Record<string, Published> = {
  "fal fal-ai/veo3.1": {
    unit: "second",
    usd: { "720p": 0.2, "1080p": 0.2 },
    audio: { "720p": 0.4, "1080p": 0.4 },
    source: "fal.ai/models/fal-ai/veo3.1 (llms.txt pricing)",
    checked: "2026-12-08",
  },
  "fal fal-ai/veo3.1/fast": {
    unit: "second",
    usd: { "720p": 0.1, "1080p": 0.1 },
    audio: { "720p": 0.15, "1080p": 0.15 },
    source: "fal.ai model page, secondary copy",
    checked: "2026-11-27",
  },
  "fal fal-ai/veo3.1/lite": {
    unit: "second",
    usd: { "720p": 0.05, "1080p": 0.05 },
    audio: { "720p": 0.05, "1080p": 0.05 },
    source: "videopromptkit.com fal Veo 3.1 Lite guide (secondary)",
    checked: "2026-12-08",
  },
  "fal fal-ai/kling-video/v2.5-turbo/pro/text-to-video": {
    unit: "second",
    usd: { "1080p": 0.07 },
    source: "fal.ai: $0.35 per 5 s + $0.07 per extra second",
    checked: "2026-11-27",
  },
  "replicate kwaivgi/kling-v2.5-turbo-pro": {
    unit: "second",
    usd: { "1080p": 0.07 },
    source: "replicate.com/kwaivgi/kling-v2.5-turbo-pro",
    checked: "2026-11-27",
  },
  "fal fal-ai/kling-video/v2.6/pro/text-to-video": {
    unit: "second",
    usd: { "1080p": 0.07 },
    audio: { "1080p": 0.14 },
    source: "fal.ai model page, per issue 22's review",
    checked: "2026-12-08",
  },
  "fal fal-ai/kling-video/v3/pro/text-to-video": {
    unit: "second",
    usd: { "1080p": 0.112 },
    audio: { "1080p": 0.168 },
    source: "fal.ai model page, secondary copy",
    checked: "2026-11-27",
  },
  "fal fal-ai/kling-video/v3/standard/text-to-video": {
    unit: "second",
    usd: { "720p": 0.084 },
    audio: { "720p": 0.126 },
    source: "fal.ai model page, per issue 22's review",
    checked: "2026-12-08",
  },
  "fal fal-ai/minimax/hailuo-02/standard/text-to-video": {
    unit: "second",
    usd: { "768p": 0.045 },
    source: "fal.ai model page",
    checked: "2026-11-27",
  },
  "fal fal-ai/minimax/hailuo-2.3/standard/text-to-video": {
    unit: "second",
    usd: { "768p": 0.056 },
    source: "fal.ai hailuo-2.3/standard llms.txt: $0.28 per 6 s, $0.56 per 10 s (the 10 s rate)",
    checked: "2026-12-08",
  },
  "replicate minimax/hailuo-02": {
    unit: "second",
    usd: { "768p": 0.045, "1080p": 0.08 },
    source: "replicate.com/minimax/hailuo-02",
    checked: "2026-11-27",
  },
  "fal fal-ai/wan-25-preview/text-to-video": {
    unit: "second",
    usd: { "480p": 0.05, "720p": 0.1, "1080p": 0.15 },
    audio: { "480p": 0.05, "720p": 0.1, "1080p": 0.15 },
    source: "fal.ai model page (music included)",
    checked: "2026-12-08",
  },
  "fal fal-ai/bytedance/seedance/v1/pro/text-to-video": {
    unit: "second",
    usd: { "480p": 0.024, "720p": 0.054, "1080p": 0.124 },
    source: "derived: fal's $2.50 per million video tokens (w×h×fps×s/1024)",
    checked: "2026-11-27",
  },
  "fal fal-ai/bytedance/seedance/v1/pro/fast/text-to-video": {
    unit: "second",
    usd: { "480p": 0.01, "720p": 0.022, "1080p": 0.049 },
    source: "derived: fal's $1 per million video tokens at 24 fps (llms.txt: 1080p 5 s ≈ $0.245)",
    checked: "2026-12-08",
  },
  "fal fal-ai/bytedance/seedance/v1.5/pro/text-to-video": {
    unit: "second",
    usd: { "480p": 0.012, "720p": 0.026, "1080p": 0.059 },
    audio: { "480p": 0.024, "720p": 0.052, "1080p": 0.117 },
    source: "derived: fal's $1.2 / $2.4 (audio) per million tokens at 24 fps (720p 5 s ≈ $0.26)",
    checked: "2026-12-08",
  },
  "luma ray-2": {
    unit: "second",
    usd: { "540p": 0.08, "720p": 0.142, "1080p": 0.319 },
    source: "derived: Luma's per-pixel rate (~$0.0064 per million pixels)",
    checked: "2026-11-27",
  },
  "runway gen4_turbo": {
    unit: "second",
    usd: { "720p": 0.05 },
    source: "docs.dev.runwayml.com pricing: 5 credits/s at $0.01",
    checked: "2026-11-27",
  },
  "runway gen4.5": {
    unit: "second",
    usd: { "720p": 0.12 },
    source: "docs.dev.runwayml.com pricing: 12 credits/s at $0.01, per issue 22's review",
    checked: "2026-12-08",
  },
  "gemini veo-3.1-generate-preview": {
    unit: "second",
    usd: { "720p": 0.4, "1080p": 0.4 },
    audio: { "720p": 0.4, "1080p": 0.4 },
    source: "ai.google.dev/gemini-api/docs/pricing (retired 2026-10-22)",
    checked: "2026-11-27",
  },
  "gemini veo-3.1-fast-generate-preview": {
    unit: "second",
    usd: { "720p": 0.1, "1080p": 0.12 },
    audio: { "720p": 0.1, "1080p": 0.12 },
    source: "secondary pages after the April 2026 cut (retired 2026-10-22)",
    checked: "2026-11-27",
  },
};

const cents = (usd: Record<string, number>) =>
  Object.fromEntries(Object.entries(usd).map(([r, v]) => [r, Math.round(v * 100 * 1e6) / 1e6]));

Deno.test("every paid route's cost is the provider's published figure, with its source", () => {
  const seen = new Set<string>();
  for (const m of MODELS) {
    for (const r of m.routes) {
      if (r.provider === "local") continue;
      const key = `${r.provider} ${r.upstreamModel}`;
      const p = PUBLISHED[key];
      assert.ok(p, `${m.slug}: ${key} has no published price recorded here`);
      seen.add(key);
      assert.equal(r.cost.unit, p.unit, key);
      assert.deepEqual(r.cost.cents, cents(p.usd), `${key}: price without audio`);
      if (p.audio) assert.deepEqual(r.cost.audioCents, cents(p.audio), `${key}: price with audio`);
      else assert.equal(r.cost.audioCents, undefined, `${key}: an audio price nobody published`);
      assert.match(p.checked, /^\d{4}-\d{2}-\d{2}$/);
    }
  }
  assert.deepEqual(Object.keys(PUBLISHED).filter((k) => !seen.has(k)), [], "stale entries");
});
