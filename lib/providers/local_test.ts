import assert from "node:assert/strict";
import { findFfmpeg, runFfmpeg } from "../ffmpeg.ts";
import { isFastStart, probeVideo } from "../../tests/support/video.ts";
import {
  createLocalProvider,
  DEJAVU_SANS,
  localProvider,
  previewFilterGraph,
  promptLines,
  videoDimensions,
  wrapText,
} from "./local.ts";
import type { ProviderDeps, VideoRequest } from "./types.ts";

async function withWorkDir(fn: (deps: ProviderDeps) => Promise<void>) {
  const workDir = await Deno.makeTempDir({ prefix: "pipevideo-local-" });
  const deps: ProviderDeps = {
    fetch: () => Promise.reject(new Error("the local model must not use the network")),
    env: {},
    workDir,
  };
  try {
    await fn(deps);
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
}

const request = (over: Partial<VideoRequest> = {}): VideoRequest => ({
  prompt: "A lighthouse at dusk",
  duration: 2,
  resolution: "360p",
  aspectRatio: "16:9",
  ...over,
});

async function renderAndProbe(deps: ProviderDeps, req: VideoRequest) {
  const { jobId } = await localProvider.submit("preview", req, deps);
  const result = await localProvider.poll(jobId, deps);
  assert.equal(result.status, "succeeded");
  assert.ok(result.status === "succeeded" && "file" in result.output);
  return { file: result.output.file, video: await probeVideo(result.output.file) };
}

Deno.test("local provider is always configured and polls quickly", () => {
  assert.equal(localProvider.id, "local");
  assert.equal(localProvider.isConfigured({}), true);
  assert.ok(localProvider.pollIntervalMs <= 500);
});

Deno.test("renders a 4 s 480p 16:9 H.264 MP4 with faststart", async () => {
  await withWorkDir(async (deps) => {
    const started = performance.now();
    const { file, video } = await renderAndProbe(
      deps,
      request({ duration: 4, resolution: "480p", seed: 42 }),
    );
    const elapsed = performance.now() - started;
    assert.equal(video.codec, "h264");
    assert.equal(video.pixFmt, "yuv420p");
    assert.equal(video.width, 854);
    assert.equal(video.height, 480);
    assert.ok(Math.abs(video.duration - 4) <= 0.1, `duration ${video.duration}`);
    assert.ok(await isFastStart(file), "moov must come before mdat");
    assert.ok(elapsed < 10_000, `render took ${elapsed} ms`);
    // Nothing but the finished video is left behind.
    assert.deepEqual(
      Array.from(Deno.readDirSync(`${deps.workDir}/local`), (e) => e.name),
      [file.split("/").pop()],
    );
  });
});

for (
  const [resolution, aspectRatio, width, height, duration] of [
    ["360p", "9:16", 360, 640, 1],
    ["720p", "1:1", 720, 720, 3],
    ["1080p", "16:9", 1920, 1080, 1],
  ] as const
) {
  Deno.test(`renders ${resolution} ${aspectRatio} at ${width}x${height} for ${duration} s`, async () => {
    await withWorkDir(async (deps) => {
      const { video } = await renderAndProbe(deps, request({ resolution, aspectRatio, duration }));
      assert.equal(video.codec, "h264");
      assert.deepEqual([video.width, video.height], [width, height]);
      assert.ok(Math.abs(video.duration - duration) <= 0.1, `duration ${video.duration}`);
    });
  });
}

Deno.test("hostile prompts render and are not interpreted", async () => {
  const prompts = [
    `He said "it's: 100% \\ done" ; [out] , drawbox=c=red`,
    "%{n} %{pts} %{localtime} %{eif:1/0:d} \\%{e:t}",
    "line one\nline two\r\nline three\ttabbed\u0000nul\u001b[31m",
    "emoji 🎬🌅👩‍👩‍👧 and CJK 灯台 and RTL مرحبا",
    "x".repeat(4000),
    "word ".repeat(800),
    "'",
    "\\",
    "\n\n\n",
  ];
  await withWorkDir(async (deps) => {
    for (const prompt of prompts) {
      const { video } = await renderAndProbe(deps, request({ prompt, duration: 1 }));
      assert.equal(video.codec, "h264", `prompt ${JSON.stringify(prompt.slice(0, 40))}`);
    }
  });
});

Deno.test("renders with the npm ffmpeg binary too", async () => {
  const npmFfmpeg = await findFfmpeg({ pathEnv: "" });
  const provider = createLocalProvider({ ffmpegPath: () => Promise.resolve(npmFfmpeg) });
  await withWorkDir(async (deps) => {
    const { jobId } = await provider.submit("preview", request({ duration: 1 }), deps);
    const result = await provider.poll(jobId, deps);
    assert.ok(result.status === "succeeded" && "file" in result.output);
    const video = await probeVideo(result.output.file);
    assert.deepEqual([video.codec, video.width, video.height], ["h264", 640, 360]);
  });
});

Deno.test("poll of a missing or malformed job fails, not retryable, with a message", async () => {
  await withWorkDir(async (deps) => {
    for (const jobId of ["no-such-job", "../../etc/passwd"]) {
      const result = await localProvider.poll(jobId, deps);
      assert.equal(result.status, "failed");
      assert.ok(result.status === "failed" && !result.retryable);
      assert.ok(result.status === "failed" && result.message.includes(jobId));
    }
  });
});

Deno.test("a failing ffmpeg becomes a ProviderError that names the cause", async () => {
  const provider = createLocalProvider({ ffmpegPath: () => Promise.resolve("/bin/false") });
  await withWorkDir(async (deps) => {
    await assert.rejects(
      provider.submit("preview", request(), deps),
      (err: Error & { retryable?: boolean }) =>
        err.retryable === false && /Local render failed/.test(err.message),
    );
    // The prompt file and partial output are cleaned up.
    assert.deepEqual(Array.from(Deno.readDirSync(`${deps.workDir}/local`)), []);
  });
});

Deno.test("missing ffmpeg is reported as a non-retryable ProviderError", async () => {
  const provider = createLocalProvider({
    ffmpegPath: () => Promise.reject(new Error("ffmpeg not found")),
  });
  await withWorkDir(async (deps) => {
    await assert.rejects(
      provider.submit("preview", request(), deps),
      (err: Error & { retryable?: boolean }) =>
        err.retryable === false && /needs ffmpeg: ffmpeg not found/.test(err.message),
    );
  });
});

Deno.test("videoDimensions: the resolution is the short side, both sides even", () => {
  assert.deepEqual(videoDimensions("480p", "16:9"), { width: 854, height: 480 });
  assert.deepEqual(videoDimensions("480p", "9:16"), { width: 480, height: 854 });
  assert.deepEqual(videoDimensions("360p", "16:9"), { width: 640, height: 360 });
  assert.deepEqual(videoDimensions("1080p", "1:1"), { width: 1080, height: 1080 });
  assert.throws(() => videoDimensions("4k", "16:9"));
  assert.throws(() => videoDimensions("720p", "21:9"));
});

Deno.test("wrapText wraps words, keeps newlines, breaks long words", () => {
  assert.deepEqual(wrapText("the quick brown fox", 10), ["the quick", "brown fox"]);
  assert.deepEqual(wrapText("a\nb", 10), ["a", "b"]);
  assert.deepEqual(wrapText("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
  assert.deepEqual(wrapText("🎬🎬🎬", 2), ["🎬🎬", "🎬"]);
});

Deno.test("promptLines caps the lines and marks the cut", () => {
  const text = promptLines("word ".repeat(800), 854, 480, 30);
  const lines = text.split("\n");
  assert.ok(lines.length <= 8);
  assert.ok(lines.at(-1)!.endsWith("…"));
  assert.equal(promptLines("\u0000\u0001", 854, 480, 30), " ");
});

Deno.test("drawtext does not expand %{…} sequences from the prompt", async () => {
  await withWorkDir(async ({ workDir }) => {
    const textFile = `${workDir}/prompt.txt`;
    // With expansion on, ffmpeg logs "%{nosuchfunction} is not known" for every frame.
    await Deno.writeTextFile(textFile, "%{nosuchfunction} %{n}");
    const graph = previewFilterGraph({
      width: 64,
      height: 64,
      duration: 0.2,
      seed: 1,
      textFile,
      fontFile: DEJAVU_SANS,
      fontSize: 8,
    });
    assert.ok(!graph.includes("nosuchfunction"));
    const { stderr } = await runFfmpeg(
      await findFfmpeg(),
      ["-filter_complex", graph, "-f", "null", "-"],
      { timeoutMs: 20_000 },
    );
    assert.equal(stderr, "");
  });
});

Deno.test("the same seed gives the same background, another seed another", () => {
  const graph = (seed: number) =>
    previewFilterGraph({
      width: 64,
      height: 64,
      duration: 1,
      seed,
      textFile: "/t.txt",
      fontFile: undefined,
      fontSize: 8,
    });
  assert.equal(graph(7), graph(7));
  assert.notEqual(graph(7), graph(8));
});
