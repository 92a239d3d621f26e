import assert from "node:assert/strict";
import type { ApiGeneration } from "../generations/service.ts";
import { generationListText, generationText } from "./text.ts";

// The API shape of a completed generation whose video the retention sweep deleted.
const expired: ApiGeneration = {
  id: "gen_01JD0000000000000000000000",
  status: "completed",
  model: "local/preview",
  output_url: null,
  cost_cents: 2,
  latency_ms: 1200,
  error_message: null,
  error: null,
  created_at: 1_764_000_000,
  completed_at: 1_764_000_002,
  output_expired: true,
};

Deno.test("MCP text: an expired video says it was deleted after the retention period", () => {
  assert.match(generationText(expired), /deleted after this server's retention period/);
  assert.match(generationListText({ data: [expired], next_cursor: null }), /video deleted/);
  const live = { ...expired, output_expired: undefined, output_url: "https://x.test/v.mp4" };
  assert.doesNotMatch(generationText(live), /deleted/);
  assert.match(generationText(live), /Video: https:\/\/x.test\/v.mp4/);
});
