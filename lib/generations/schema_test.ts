import assert from "node:assert/strict";
import { AppError, BadRequest } from "../errors.ts";
import { parseGenerationBody } from "./schema.ts";

Deno.test("aliases, trimming and the models list", () => {
  assert.deepEqual(
    parseGenerationBody({
      model: "google/veo-3.1",
      prompt: "  a cat  ",
      aspect_ratio: "9:16",
      image_url: "https://example.com/a.png",
      negative_prompt: "blur",
      provider: { order: ["fal", "gemini"] },
      metadata: { user: "42" },
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
  // The public pipevideo-mcp client's body, camelCase aliases included.
  assert.deepEqual(
    parseGenerationBody({
      model: "a/b",
      prompt: "x",
      provider: "fal",
      duration: 5,
      aspectRatio: "16:9",
      imageUrl: "https://example.com/a.png",
      negativePrompt: "blur",
      webhookUrl: "https://example.com/hook",
    }),
    {
      models: ["a/b"],
      prompt: "x",
      provider: "fal",
      duration: 5,
      aspectRatio: "16:9",
      imageUrl: "https://example.com/a.png",
      negativePrompt: "blur",
      webhookUrl: "https://example.com/hook",
    },
  );
  // Both spellings of one field agree: accepted; disagree: neither silently wins.
  assert.equal(
    parseGenerationBody({ model: "a/b", prompt: "x", aspectRatio: "1:1", aspect_ratio: "1:1" })
      .aspectRatio,
    "1:1",
  );
  assert.throws(
    () =>
      parseGenerationBody({ model: "a/b", prompt: "x", aspectRatio: "1:1", aspect_ratio: "9:16" }),
    (e: unknown) => e instanceof BadRequest && e.param === "aspectRatio",
  );
});

Deno.test("an unknown field is a 400 unknown_parameter naming it, with a did-you-mean", () => {
  const refused = (body: unknown) => {
    try {
      parseGenerationBody(body);
    } catch (e) {
      assert.ok(e instanceof AppError);
      return { status: e.status, code: e.code, param: e.param, message: e.message, data: e.data };
    }
    assert.fail("accepted " + JSON.stringify(body));
  };
  const typo = refused({ model: "local/preview", prompt: "x", resolutoin: "720p" });
  assert.deepEqual(typo, {
    status: 400,
    code: "unknown_parameter",
    param: "resolutoin",
    message: "Unknown parameter resolutoin; did you mean resolution?",
    data: { did_you_mean: "resolution" },
  });
  // Checked before the other fields: the typo is named, not the missing field it stood for.
  assert.equal(refused({ model: "a/b", promtp: "x" }).param, "promtp");
  assert.equal(
    refused({ model: "a/b", prompt: "x", AspectRatio: "1:1" }).data?.did_you_mean,
    "aspectRatio",
  );
  // Nothing close: no guess.
  const far = refused({ model: "a/b", prompt: "x", something_new: true });
  assert.equal(far.code, "unknown_parameter");
  assert.equal(far.message, "Unknown parameter something_new");
  assert.equal(far.data, undefined);
  // Nested objects are strict too.
  const nested = refused({ model: "a/b", prompt: "x", provider: { order: ["fal"], ordre: [] } });
  assert.equal(nested.status, 400);
  assert.match(nested.param ?? "", /^provider/);
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
