/**
 * The providers' defaults, read from @fal-ai/client's own type file (the input type of each
 * endpoint and its documented "Default value"), independently of what our adapter builds: every
 * catalog route's endpoint must exist in the SDK's endpoint map with an image field for
 * image-to-video, every required field must be sent, and a field whose upstream default would
 * change what the user asked (prompt rewriting, sound, the aspect ratio of an image) must be
 * sent explicitly. Every other default we leave to the provider is listed here, reviewed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
// Imported so Deno installs the SDK into node_modules, where its type file is read below.
import type { EndpointTypeMap } from "@fal-ai/client/endpoints";
import { catalogCases, upstreamCall } from "../support/contract_cases.ts";
import { falInput } from "../../lib/providers/fal.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
const version = String(config.imports["@fal-ai/client"]).split("@").at(-1);
const TYPES = await Deno.readTextFile(
  `${ROOT}node_modules/.deno/@fal-ai+client@${version}/node_modules/@fal-ai/client/src/types/endpoints.d.ts`,
);

interface SdkField {
  optional: boolean;
  type: string;
  /** The documented default, as written in the SDK ("true", "\"auto\""), if any. */
  default?: string;
}

/** An endpoint id of the SDK's map (the type file read below is this one's source). */
export type FalEndpoint = keyof EndpointTypeMap;

/** The input fields of a fal endpoint as the SDK's EndpointTypeMap types them; null if absent. */
function sdkInput(endpoint: string): Map<string, SdkField> | null {
  const entry = TYPES.match(
    new RegExp(`"${endpoint.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}": \\{\\s*input: (\\w+);`),
  );
  if (!entry) return null;
  let name = entry[1];
  let body: string | undefined;
  for (let hops = 0; hops < 5 && body === undefined; hops++) {
    const block = TYPES.match(new RegExp(`export type ${name} = \\{([\\s\\S]*?)\\n\\};`));
    if (block) body = block[1];
    else name = TYPES.match(new RegExp(`export type ${name} = (\\w+);`))?.[1] ?? "";
  }
  assert.ok(body, `the SDK's input type of ${endpoint}`);
  const fields = new Map<string, SdkField>();
  const re = /(?:\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\s*)?\n {4}"?(\w+)"?(\?)?: ([^;]*);/g;
  for (const m of body.matchAll(re)) {
    const doc = m[1] ?? "";
    const def = doc.match(/Default value: `([^`]*)`/)?.[1];
    fields.set(m[2], { optional: m[3] === "?", type: m[4], ...(def ? { default: def } : {}) });
  }
  return fields;
}

/** Upstream switches that let the provider rewrite the prompt: off unless enhance_prompt. */
const REWRITES = ["auto_fix", "enable_prompt_expansion", "prompt_optimizer"];

/**
 * Defaults we leave to the provider, reviewed: a new endpoint with a default not listed here
 * fails the test until someone decides whether it changes what the user asked.
 */
const LEFT_TO_PROVIDER: Record<string, string> = {
  safety_tolerance: "Veo's content filter level: the provider's default is the intended policy",
  enable_safety_checker: "safety checking stays on",
  cfg_scale: "Kling's prompt adherence: a tuning knob, not a change of what was asked",
  shot_type: "Kling 3's single-shot default is what one prompt asks for",
  camera_fixed: "Seedance moves the camera unless told; false is its natural behaviour",
  negative_prompt:
    "Kling's default negative prompt (blur, distortion) is applied when none is said",
  duration: "always sent",
  resolution: "sent where the endpoint has it; the catalog refuses others",
  aspect_ratio: "sent where the endpoint has it (checked below for image-to-video)",
  generate_audio: "always sent (checked below)",
  num_frames: "Seedance derives it from duration",
  audio_url: "no driving audio: Wan then adds background music, catalogued as sound always",
};

Deno.test("fal defaults: every route's endpoint is the SDK's, required fields are sent, behaviour-changing defaults are said", () => {
  const cases = catalogCases("fal");
  assert.ok(cases.length > 100);
  const unreviewed = new Set<string>();
  for (const c of cases) {
    const call = upstreamCall(c);
    const sdk = sdkInput(call.path);
    assert.ok(sdk, `${c.name}: ${call.path} is not an endpoint of @fal-ai/client ${version}`);
    for (const [field, f] of sdk) {
      if (!f.optional) assert.ok(field in call.body, `${c.name}: required ${field} not sent`);
    }
    if (c.mode === "image") {
      assert.ok(
        [...sdk.keys()].some((k) => call.body[k] === c.req.image?.url),
        `${c.name}: the image goes in none of the SDK's fields`,
      );
    }
    for (const field of REWRITES) {
      if (!sdk.has(field)) continue;
      assert.equal(call.body[field], false, `${c.name}: ${field} (default true) not turned off`);
      const asked = falInput(call.path, { ...c.req, enhancePrompt: true });
      assert.equal(asked[field], true, `${c.name}: enhance_prompt does not turn ${field} on`);
    }
    if (sdk.has("generate_audio")) {
      assert.equal(typeof call.body.generate_audio, "boolean", `${c.name}: sound left to default`);
    }
    if (c.mode === "image" && sdk.get("aspect_ratio")?.default === '"auto"') {
      const unasked = falInput(call.path, { ...c.req, aspectRatioDefault: true });
      assert.equal(unasked.aspect_ratio, "auto", `${c.name}: a default ratio crops the image`);
    }
    for (const [field, f] of sdk) {
      if (f.default === undefined || field in call.body || REWRITES.includes(field)) continue;
      if (!LEFT_TO_PROVIDER[field]) unreviewed.add(`${call.path}: ${field} = ${f.default}`);
    }
  }
  assert.deepEqual([...unreviewed], [], "upstream defaults nobody reviewed");
});

Deno.test("fal defaults: the parser reads the SDK as it is (a check that could fail)", () => {
  const veo = sdkInput("fal-ai/veo3.1/image-to-video")!;
  assert.equal(veo.get("aspect_ratio")?.default, '"auto"');
  assert.equal(veo.get("image_url")?.optional, false);
  assert.equal(
    sdkInput("fal-ai/wan-25-preview/text-to-video")!.get("enable_prompt_expansion")
      ?.default,
    "true",
  );
  assert.equal(sdkInput("fal-ai/no-such/endpoint"), null);
});
