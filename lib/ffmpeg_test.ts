import assert from "node:assert/strict";
import { escapeFilterValue, FfmpegError, findFfmpeg, runFfmpeg } from "./ffmpeg.ts";

Deno.test("findFfmpeg prefers ffmpeg on PATH", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ffmpeg`, "#!/bin/sh\n", { mode: 0o755 });
    const found = await findFfmpeg({
      pathEnv: `/nonexistent:${dir}`,
      npmBinary: () => Promise.reject(new Error("npm must not be asked")),
    });
    assert.equal(found, `${dir}/ffmpeg`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findFfmpeg skips a non-executable ffmpeg on PATH", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ffmpeg`, "not a program", { mode: 0o644 });
    const found = await findFfmpeg({ pathEnv: dir, npmBinary: () => Promise.resolve("/bin/true") });
    assert.equal(found, "/bin/true");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findFfmpeg falls back to the npm binary and makes it executable", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const binary = `${dir}/ffmpeg-npm`;
    await Deno.writeTextFile(binary, "#!/bin/sh\n", { mode: 0o644 });
    const found = await findFfmpeg({ pathEnv: "", npmBinary: () => Promise.resolve(binary) });
    assert.equal(found, binary);
    assert.equal((await Deno.stat(binary)).mode! & 0o111, 0o111);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("findFfmpeg resolves the real npm package's binary", async () => {
  const found = await findFfmpeg({ pathEnv: "" });
  assert.match(found, /@ffmpeg-installer.*\/ffmpeg$/);
  await runFfmpeg(found, ["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.1", "-f", "null", "-"], {
    timeoutMs: 20_000,
  });
});

Deno.test("findFfmpeg names the problem when there is no ffmpeg at all", async () => {
  await assert.rejects(
    findFfmpeg({ pathEnv: "", npmBinary: () => Promise.reject(new Error("gone")) }),
    (err: unknown) => err instanceof FfmpegError && /not found on PATH/.test(err.message),
  );
});

Deno.test("runFfmpeg reports ffmpeg's own error message", async () => {
  const ffmpeg = await findFfmpeg();
  await assert.rejects(
    runFfmpeg(ffmpeg, ["-i", "/nonexistent/input.mp4", "-f", "null", "-"], { timeoutMs: 20_000 }),
    (err: unknown) =>
      err instanceof FfmpegError && err.exitCode !== 0 && /No such file/.test(err.message),
  );
});

Deno.test("runFfmpeg kills a run that exceeds its timeout", async () => {
  const ffmpeg = await findFfmpeg();
  const started = Date.now();
  await assert.rejects(
    // -re reads the endless source in real time, so this would run forever.
    runFfmpeg(ffmpeg, ["-re", "-f", "lavfi", "-i", "nullsrc=s=16x16", "-f", "null", "-"], {
      timeoutMs: 300,
    }),
    (err: unknown) => err instanceof FfmpegError && err.timedOut,
  );
  assert.ok(Date.now() - started < 5_000);
});

Deno.test("escapeFilterValue keeps a hostile path one filter option", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sub = `${dir}/a:b'c,d[e]f;g\\h`;
    await Deno.mkdir(sub);
    const textFile = `${sub}/text.txt`;
    await Deno.writeTextFile(textFile, "hi");
    const ffmpeg = await findFfmpeg();
    const graph = `nullsrc=s=64x64:d=0.1,drawtext=textfile=${escapeFilterValue(textFile)}` +
      ":expansion=none:fontcolor=white";
    await runFfmpeg(ffmpeg, ["-filter_complex", graph, "-f", "null", "-"], { timeoutMs: 20_000 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
