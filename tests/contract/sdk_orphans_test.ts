/**
 * The orphan search (findOrphan, docs/faults.md "Crash during submit") against the SDKs: our
 * list request matches the SDK's own list call, and the pages we parse are typed with the SDK's
 * response types (a field we read that the SDK lacks fails to compile). Only jobs with our
 * request, in the window and not ended are offered for adoption.
 */
import assert from "node:assert/strict";
import LumaAI from "lumaai";
import Replicate, { type Page, type Prediction } from "replicate";
import { lumaProvider, lumaRequestBody } from "../../lib/providers/luma.ts";
import { replicateInput, replicateProvider } from "../../lib/providers/replicate.ts";
import type { ProviderDeps, VideoRequest } from "../../lib/providers/types.ts";
import { essentials, recorder } from "./recorder.ts";

const deps = (env: ProviderDeps["env"]): ProviderDeps => ({ fetch, env, workDir: "/nonexistent" });
const SINCE = Date.parse("2026-11-29T10:00:00Z");
const at = (offsetS: number) => new Date(SINCE + offsetS * 1000).toISOString();
const req: VideoRequest = {
  prompt: "a fox in snow",
  duration: 5,
  resolution: "720p",
  aspectRatio: "16:9",
};

Deno.test("orphans: Replicate's prediction list, as the replicate SDK lists and types it", async () => {
  const MODEL = "kwaivgi/kling-v2.5-turbo-pro";
  const input = replicateInput(MODEL, req);
  const p = (id: string, over: Partial<Prediction>): Prediction => ({
    id,
    model: MODEL,
    version: "hidden",
    input: { ...input, fps: 24 },
    source: "api",
    status: "processing",
    data_removed: false,
    created_at: at(5),
    urls: { get: "", cancel: "" },
    ...over,
  });
  const page: Page<Prediction> = {
    results: [
      p("other1", { input: { ...input, prompt: "a cat" } }), // another request
      p("other2", { model: "minimax/hailuo-02" }), // another model
      p("cancelled1", { status: "canceled" }), // a duplicate we cancelled
      p("orphan1", { created_at: at(2) }),
      p("skewed1", { created_at: at(-50) }), // within the clock-skew allowance
      p("before1", { created_at: at(-3600) }), // long before the attempt: the list ends here
    ],
  };
  await using rec = recorder(() => page);
  const KEY = "r8_replicate0123456789";
  const sdk = new Replicate({ auth: KEY, baseUrl: `${rec.url}/v1`, fetch });
  const d = deps({ REPLICATE_API_TOKEN: KEY, REPLICATE_BASE_URL: rec.url });
  assert.deepEqual(await replicateProvider.findOrphan!(MODEL, req, SINCE, d), [
    "skewed1",
    "orphan1",
  ]);
  const listed = await sdk.predictions.list();
  assert.deepEqual(listed.results.map((r) => r.id), page.results.map((r) => r.id));
  const [ours, theirs] = rec.take();
  assert.deepEqual(essentials(ours, "authorization"), essentials(theirs, "authorization"));
});

Deno.test("orphans: Luma's generation list, as the lumaai SDK lists and types it, page by page", async () => {
  type G = LumaAI.Generations.Generation;
  const body = lumaRequestBody("ray-2", req) as unknown as G["request"];
  const g = (id: string, over: Partial<G>): G => ({
    id,
    state: "dreaming",
    created_at: at(5),
    request: body,
    ...over,
  });
  const ids = {
    orphan: "0b7e4c1a-1111-4e7b-9c10-2d5e6f7a8b9c",
    other: "0b7e4c1a-2222-4e7b-9c10-2d5e6f7a8b9c",
    failed: "0b7e4c1a-3333-4e7b-9c10-2d5e6f7a8b9c",
    second: "0b7e4c1a-4444-4e7b-9c10-2d5e6f7a8b9c",
    old: "0b7e4c1a-5555-4e7b-9c10-2d5e6f7a8b9c",
  };
  const pages: LumaAI.Generations.GenerationListResponse[] = [
    {
      generations: [
        g(ids.other, { request: { ...body!, prompt: "a cat" } as G["request"] }),
        g(ids.failed, { state: "failed" }),
        g(ids.orphan, { created_at: at(3) }),
      ],
      has_more: true,
    },
    {
      generations: [g(ids.second, { created_at: at(1) }), g(ids.old, { created_at: at(-900) })],
      has_more: true, // more pages, but older than the window: not read
    },
  ];
  await using rec = recorder((r) =>
    pages[Number(new URL(r.path, "http://x").searchParams.get("offset")) / 100] ??
      { generations: [], has_more: false }
  );
  const KEY = "luma-key-0123456789";
  const base = `${rec.url}/dream-machine/v1`;
  const sdk = new LumaAI({ authToken: KEY, baseURL: base, maxRetries: 0 });
  const d = deps({ LUMAAI_API_KEY: KEY, LUMAAI_BASE_URL: base });
  assert.deepEqual(await lumaProvider.findOrphan!("ray-2", req, SINCE, d), [
    ids.second,
    ids.orphan,
  ]);
  const [first, second, ...more] = rec.take();
  assert.equal(more.length, 0);
  assert.match(second.path, /offset=100/);
  const listed = await sdk.generations.list({ limit: 100, offset: 0 });
  assert.equal(listed.generations.length, 3);
  const [theirs] = rec.take();
  assert.deepEqual(essentials(first, "authorization"), essentials(theirs, "authorization"));
});
