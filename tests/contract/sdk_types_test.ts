/**
 * Type-level contract: for every catalog route x option combination, the body our adapter
 * builds type-checks against the official SDK's request type for that endpoint, as an exact
 * object (a field the endpoint does not have is an error). Generates a .ts file of cases and
 * runs `deno check` on it. Replicate's SDK types model inputs as `object` and the Gemini API's
 * wire body is not an SDK type: both are compared side by side with their SDKs instead.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type Case, catalogCases, upstreamCall } from "../support/contract_cases.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
  imports: Record<string, string>;
};
const sdk = (name: string) => config.imports[name];

// Each case is an element of an array literal typed with the SDK's request type: a fresh object
// literal, so a field the type lacks is an excess-property error at any depth (exact, not mere
// assignability), and a value outside the type's literals is an error too.
const PRELUDE = `
import type { EndpointTypeMap } from "${sdk("@fal-ai/client")}/endpoints";
import type { ImageToVideoCreateParams, TextToVideoCreateParams } from "${
  sdk("@runwayml/sdk")
}/resources";
import type { VideoCreateParams } from "${sdk("lumaai")}/resources/generations/video";

type FalInput<E extends keyof EndpointTypeMap> = EndpointTypeMap[E]["input"];
// Luma types duration and resolution as "5s" | "9s" | (string & {}): keep only the literals.
type LumaCreate = Omit<VideoCreateParams, "duration" | "resolution"> & {
  duration?: Extract<VideoCreateParams["duration"], \`\${number}s\`>;
  resolution?: Extract<VideoCreateParams["resolution"], \`\${number}p\` | \`\${number}k\`>;
};
`;

// Bodies the check must refuse: if one of them type-checks, its @ts-expect-error is unused and
// the check fails, so the test proves it can catch the kind of mistake it is for.
const MUST_FAIL = `
// @ts-expect-error the pre-fix fal Kling 3.0 image-to-video body: image_url, not start_image_url
const _bad1: FalInput<"fal-ai/kling-video/v3/pro/image-to-video"> = { prompt: "p", image_url: "u" };
// @ts-expect-error aspect_ratio where the endpoint has none (fal Kling 2.5 image-to-video)
const _bad2: FalInput<"fal-ai/kling-video/v2.5-turbo/pro/image-to-video"> = { prompt: "p", image_url: "u", aspect_ratio: "16:9" };
// @ts-expect-error a duration Luma does not offer
const _bad3: LumaCreate = { model: "ray-2", duration: "7s" };
// @ts-expect-error a nested extra field
const _bad4: LumaCreate = { model: "ray-2", keyframes: { frame0: { type: "image", url: "u", extra: 1 } } };
// @ts-expect-error a field another model of the union has (Veo's audio) is extra on gen4_turbo
const _bad6: ImageToVideoCreateParams = { model: "gen4_turbo", promptImage: "u", ratio: "1280:720", audio: true };
// @ts-expect-error an http promptImage is fine by type, but a ratio Gen-4 Turbo lacks is not
const _bad5: ImageToVideoCreateParams = { model: "gen4_turbo", promptImage: "u", ratio: "1920:1080" };
`;

function sdkType(c: Case, path: string): string | null {
  switch (c.route.provider) {
    case "fal":
      return `FalInput<${JSON.stringify(path)}>`;
    case "runway":
      return path === "/v1/image_to_video" ? "ImageToVideoCreateParams" : "TextToVideoCreateParams";
    case "luma":
      return "LumaCreate";
    default:
      return null;
  }
}

/** The generated file: one typed array per SDK type, one case per line (tagged with its index). */
export function generatedChecks(cases: Case[]): { source: string; names: string[] } {
  const names: string[] = [];
  const groups = new Map<string, string[]>();
  for (const c of cases) {
    const call = upstreamCall(c);
    const type = sdkType(c, call.path);
    if (!type) continue;
    names.push(c.name);
    const lines = groups.get(type) ?? [];
    lines.push(`  ${JSON.stringify(call.body)}, // case ${names.length - 1}`);
    groups.set(type, lines);
  }
  const arrays = [...groups].map(([type, lines], i) =>
    `export const group${i}: ${type}[] = [\n${lines.join("\n")}\n];`
  );
  return { source: [PRELUDE, MUST_FAIL, ...arrays].join("\n"), names };
}

async function denoCheck(source: string): Promise<{ ok: boolean; output: string }> {
  const file = await Deno.makeTempFile({
    dir: `${ROOT}tests/contract`,
    prefix: ".gen_",
    suffix: ".ts",
  });
  try {
    await Deno.writeTextFile(file, source);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", `${ROOT}deno.json`, file],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { ok: out.success, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("contract: every route x option body type-checks exactly against its SDK's request type", async () => {
  const cases = catalogCases().filter((c) => ["fal", "runway", "luma"].includes(c.route.provider));
  const { source, names } = generatedChecks(cases);
  assert.ok(names.length > 500, `only ${names.length} cases`);
  for (const p of ["fal", "runway", "luma"]) {
    assert.ok(cases.some((c) => c.route.provider === p), `no ${p} case`);
  }
  const { ok, output } = await denoCheck(source);
  if (!ok) {
    // Name the failing cases, not just line numbers.
    const lines = source.split("\n");
    const failing = [
      ...new Set(
        [...output.matchAll(/\.ts:(\d+):\d+/g)].map((m) => {
          const line = lines[Number(m[1]) - 1] ?? "";
          const i = line.match(/case (\d+)$/)?.[1];
          return i ? names[Number(i)] : line.trim();
        }),
      ),
    ];
    assert.fail(
      `${failing.length} cases do not match the SDK:\n${failing.slice(0, 25).join("\n")}\n\n` +
        output.slice(0, 3000),
    );
  }
});
