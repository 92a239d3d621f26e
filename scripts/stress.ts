/**
 * `deno task test:stress [--multi N] [--lib N]`: runs the multi-process and shared-file tests
 * again and again and reports the flake rate of each (issue 28): the three-instance test N times
 * (default 20) and `deno test --parallel lib/` N times (default 10). Exits non-zero if any run
 * failed; a failed run's output is kept in test-output/stress/ for reading.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { multi: { type: "string", default: "20" }, lib: { type: "string", default: "10" } },
});

const out = new URL("../test-output/stress/", import.meta.url).pathname;
await Deno.mkdir(out, { recursive: true });

async function repeat(name: string, times: number, args: string[]) {
  let failed = 0;
  const started = performance.now();
  for (let i = 1; i <= times; i++) {
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...args],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ok = res.code === 0;
    if (!ok) {
      failed++;
      const text = new TextDecoder().decode(res.stdout) + new TextDecoder().decode(res.stderr);
      await Deno.writeTextFile(`${out}${name}-${i}.log`, text);
    }
    console.log(`${name} run ${i}/${times}: ${ok ? "ok" : "FAILED"}`);
  }
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`${name}: ${failed} of ${times} runs failed (${secs} s)`);
  return failed;
}

const failures = (await repeat("multi_instance", Number(values.multi), [
  "tests/http/multi_instance_test.ts",
])) + (await repeat("lib_parallel", Number(values.lib), ["--parallel", "lib/"]));
Deno.exit(failures ? 1 : 0);
