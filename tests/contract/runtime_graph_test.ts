/**
 * The official SDKs are development-only (contract tests): none may enter the server's module
 * graph, where it would ship, run and widen what a dependency can do.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SDKS = ["@fal-ai/client", "@runwayml/sdk", "lumaai", "replicate", "@google/genai"];

Deno.test("contract: main.ts's module graph holds none of the provider SDKs", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${ROOT}deno.json`, `${ROOT}main.ts`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; npmPackage?: string }[];
    npmPackages: Record<string, { name: string; dependencies: string[] }>;
  };
  assert.ok(info.modules.length > 50, "the graph was not resolved");
  // The npm packages the graph reaches: those its modules load, and their dependencies.
  const reached = new Set<string>();
  const visit = (id: string) => {
    if (reached.has(id) || !info.npmPackages[id]) return;
    reached.add(id);
    info.npmPackages[id].dependencies.forEach(visit);
  };
  for (const m of info.modules) if (m.npmPackage) visit(m.npmPackage);
  const names = new Set([...reached].map((id) => info.npmPackages[id].name));
  assert.ok(names.has("preact") && names.has("zod"), [...names].join(", "));
  for (const sdk of SDKS) assert.ok(!names.has(sdk), `${sdk} is in main.ts's module graph`);
  // And the SDKs are installed (the contract tests use them), so the check is not vacuous.
  const installed = Object.values(info.npmPackages).map((p) => p.name);
  for (const sdk of SDKS) assert.ok(installed.includes(sdk), `${sdk} is not installed`);
});
