import assert from "node:assert/strict";
import { BadRequest } from "../errors.ts";
import { parseGenerationBody } from "./schema.ts";

Deno.test("aliases, trimming, models list and unknown fields", () => {
  assert.deepEqual(
    parseGenerationBody({
      model: "google/veo-3.1",
      prompt: "  a cat  ",
      aspect_ratio: "9:16",
      image_url: "https://example.com/a.png",
      negative_prompt: "blur",
      provider: { order: ["fal", "gemini"] },
      metadata: { user: "42" },
      something_new: true,
    }),
    {
      models: ["google/veo-3.1"],
      prompt: "a cat",
      aspectRatio: "9:16",
      imageUrl: "https://example.com/a.png",
      negativePrompt: "blur",
      provider: { order: ["fal", "gemini"] },
      metadata: { user: "42" },
    },
  );
  assert.deepEqual(
    parseGenerationBody({ models: ["a/b", "c/d", "a/b"], prompt: "x", aspectRatio: "1:1" }),
    { models: ["a/b", "c/d"], prompt: "x", aspectRatio: "1:1" },
  );
});

Deno.test("failures are BadRequest naming the field", () => {
  const cases: [unknown, string | null][] = [
    [{ model: "a/b" }, "prompt"],
    [{ model: "a/b", prompt: "   " }, "prompt"],
    [{ model: "a/b", prompt: "x".repeat(4001) }, "prompt"],
    [{ prompt: "x" }, "model"],
    [{ model: "a/b", prompt: "x", duration: "5" }, "duration"],
    [{ model: "a/b", prompt: "x", image_url: "ftp://x/y" }, "image_url"],
    [{ model: "a/b", prompt: "x", metadata: { n: 1 } }, "metadata.n"],
    [{ model: "a/b", prompt: "x", provider: { order: [] } }, "provider.order"],
    [{ models: [], prompt: "x" }, "models"],
    [{ model: "a/b", models: ["a/b"], prompt: "x" }, "models"],
    ["not an object", null],
  ];
  for (const [body, param] of cases) {
    assert.throws(
      () => parseGenerationBody(body),
      (e: unknown) => e instanceof BadRequest && e.param === param,
      JSON.stringify(body).slice(0, 80),
    );
  }
  assert.throws(() => parseGenerationBody({ model: "a/b" }), /prompt/);
});
