/**
 * `deno task test [paths…]`: runs `deno test` over the project and ends with the plain line
 * "N passed, N failed" that CI reads; exits non-zero on any failure.
 *
 * `deno task test:unit`: the fast lane, `lib/` and the contract tests, less the files below that
 * need ffmpeg, Swift, a browser or a second process. It sets PIPEVIDEO_TEST_LANE=unit, and the
 * helpers in tests/support/ that start those refuse to run in it, so a slow test placed in the
 * fast lane fails instead of slowing it down. It needs no system package.
 */
import { ensureSystemPackages } from "./ensure_system.ts";

/** Files under lib/ that need ffmpeg, Swift or a second process: the full lane runs them. */
export const NOT_UNIT = [
  "lib/app_test.ts", // spawns the app
  "lib/db/kv_test.ts", // three processes contend for one SQLite file
  "lib/ffmpeg_test.ts",
  "lib/generations/faults_test.ts", // the fal stand-in serves an ffmpeg-made MP4
  "lib/generations/orphans_test.ts", // the fal stand-in serves an ffmpeg-made MP4
  "lib/generations/cancel_signal_test.ts", // renders with ffmpeg
  "lib/generations/service_test.ts", // renders with ffmpeg
  "lib/generations/sweep_test.ts", // renders with ffmpeg
  "lib/jobs_test.ts", // a second process holds a job
  "lib/providers/local_test.ts", // ffmpeg
  "lib/storage/contract_test.ts", // OpenStack Swift
  "lib/storage/storage_test.ts", // ffmpeg
];

const unit = Deno.args[0] === "--unit";
const paths = unit ? await unitFiles() : Deno.args;
if (!unit) {
  try {
    await ensureSystemPackages();
  } catch (err) {
    console.error((err as Error).message);
    console.log("0 passed, 1 failed");
    Deno.exit(1);
  }
}

const args = [
  "test",
  "-A",
  "--parallel",
  "--permit-no-files",
  ...paths,
];
const child = new Deno.Command(Deno.execPath(), {
  args,
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1", ...(unit ? { PIPEVIDEO_TEST_LANE: "unit" } : {}) },
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

/** Every test file under lib/, components/ and tests/contract/ but NOT_UNIT. */
async function unitFiles(): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (/_test\.tsx?$/.test(e.name) && !NOT_UNIT.includes(path)) files.push(path);
    }
  }
  for (const dir of ["lib", "components", "tests/contract"]) await walk(dir);
  return files.sort();
}
