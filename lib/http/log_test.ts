import assert from "node:assert/strict";
import { bufferedStdout, jsonLogger } from "./log.ts";

function sink() {
  const chunks: string[] = [];
  return {
    chunks,
    writeSync(p: Uint8Array) {
      chunks.push(new TextDecoder().decode(p));
      return p.length;
    },
  };
}

Deno.test("log lines are JSON, batched, and all written by the flush interval", async () => {
  const out = sink();
  const log = jsonLogger(bufferedStdout(out, { intervalMs: 10 }));
  log("info", "request", { path: "/a", status: 200 });
  log("error", "boom", { request_id: "req_1" });
  assert.equal(out.chunks.length, 0, "nothing is written synchronously");
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(out.chunks.length, 1, "one write for both lines");
  const lines = out.chunks[0].trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [["info", "request"], ["error", "boom"]]);
  assert.equal(lines[0].path, "/a");
  assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT/);
});

Deno.test("a full buffer is flushed at once, without waiting for the timer", () => {
  const out = sink();
  const write = bufferedStdout(out, { intervalMs: 60_000, maxBytes: 100 });
  write("x".repeat(60));
  assert.equal(out.chunks.length, 0);
  write("y".repeat(60));
  assert.equal(out.chunks.length, 1);
  assert.equal(out.chunks[0], "x".repeat(60) + "\n" + "y".repeat(60) + "\n");
});
