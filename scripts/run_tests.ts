/**
 * `deno task test [paths…]`: runs `deno test` over the project and ends with the plain line
 * "N passed, N failed" that CI reads; exits non-zero on any failure.
 */
import { ensureSystemPackages } from "./ensure_system.ts";

try {
  await ensureSystemPackages();
} catch (err) {
  console.error((err as Error).message);
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}

const args = ["test", "-A", "--parallel", "--permit-no-files", ...Deno.args];
const child = new Deno.Command(Deno.execPath(), {
  args,
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1" },
}).spawn();

let passed = 0, failed = 0, tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const { code } = await child.status;
// Deno's own summary: "ok | 12 passed (3 steps) | 0 failed (2s)" or "FAILED | 11 passed | 1 failed".
const summary = [...tail.matchAll(/(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/g)].pop();
if (summary) {
  passed = Number(summary[1]);
  failed = Number(summary[2]);
}
if (code !== 0 && failed === 0) failed = 1; // a crash or type error before any test ran
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(code === 0 && failed === 0 ? 0 : 1);
