import assert from "node:assert/strict";
import { ADAPTERS, configuredProviders } from "./registry.ts";

Deno.test("registry: every adapter sits under its own id", () => {
  for (const [id, adapter] of Object.entries(ADAPTERS)) assert.equal(adapter.id, id);
  assert.deepEqual(Object.keys(ADAPTERS).sort(), [
    "fal",
    "gemini",
    "local",
    "luma",
    "replicate",
    "runway",
  ]);
});

Deno.test("registry: only local without keys; each key turns its provider on", () => {
  assert.deepEqual([...configuredProviders({})], ["local"]);
  const env = {
    GEMINI_API_KEY: "g",
    FAL_KEY: "f",
    REPLICATE_API_TOKEN: "r",
    RUNWAYML_API_SECRET: "w",
    LUMAAI_API_KEY: "l",
  };
  assert.deepEqual(
    [...configuredProviders(env)].sort(),
    ["fal", "gemini", "local", "luma", "replicate", "runway"],
  );
  assert.deepEqual([...configuredProviders({ FAL_KEY: "f", LUMAAI_API_KEY: "" })].sort(), [
    "fal",
    "local",
  ]);
});
