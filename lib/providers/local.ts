/**
 * The built-in offline model: renders the prompt over an animated background into an H.264 MP4
 * with ffmpeg, so the whole flow works with no network (DESIGN.md, "Generation lifecycle").
 */
import { defaultFfmpegPath, escapeFilterValue, FfmpegError, runFfmpeg } from "../ffmpeg.ts";
import { type PollResult, type ProviderAdapter, ProviderError } from "./types.ts";

export const DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FRAME_RATE = 24;
const JOB_ID = /^[A-Za-z0-9_-]{1,100}$/;

export interface LocalProviderOptions {
  /** Resolves the ffmpeg binary; defaults to PATH, then the npm package. */
  ffmpegPath?: () => Promise<string>;
  /** Names the rendered file; defaults to a random UUID. */
  newJobId?: () => string;
  /** A TTF font file; defaults to DejaVu Sans when present, else fontconfig's default. */
  fontFile?: string;
  /** Kills a render that takes longer than this. */
  timeoutMs?: number;
}

export function createLocalProvider(opts: LocalProviderOptions = {}): ProviderAdapter {
  const ffmpegPath = opts.ffmpegPath ?? defaultFfmpegPath;
  const newJobId = opts.newJobId ?? (() => crypto.randomUUID());
  return {
    id: "local",
    name: "Pipevideo Local",
    isConfigured: () => true,
    pollIntervalMs: 200,
    resubmitSafe: true,

    async submit(_upstreamModel, req, deps) {
      const jobId = newJobId();
      if (!JOB_ID.test(jobId)) throw new Error(`Invalid local job id: ${jobId}`);
      const dir = renderDir(deps.workDir);
      await Deno.mkdir(dir, { recursive: true });
      await sweepStaleRenders(dir, Date.now()).catch(() => {});
      const { width, height } = videoDimensions(req.resolution, req.aspectRatio);
      const fontSize = Math.round(Math.min(width, height) / 16);
      const textFile = `${dir}/${jobId}.txt`;
      const partFile = `${dir}/${jobId}.part.mp4`;
      // The prompt goes through a file, never the filter graph: user text cannot inject filters.
      await Deno.writeTextFile(textFile, promptLines(req.prompt, width, height, fontSize));
      try {
        const graph = previewFilterGraph({
          width,
          height,
          duration: req.duration,
          seed: req.seed ?? hashString(req.prompt),
          textFile,
          fontFile: opts.fontFile ?? await defaultFont(),
          fontSize,
        });
        const binary = await ffmpegPath().catch((err) => {
          throw new ProviderError(`The local model needs ffmpeg: ${err.message ?? err}`, false);
        });
        await runFfmpeg(binary, [
          "-y",
          "-filter_complex",
          graph,
          "-t",
          String(req.duration),
          "-c:v",
          "libx264",
          "-preset",
          "veryfast",
          "-crf",
          "23",
          "-pix_fmt",
          "yuv420p",
          "-movflags",
          "+faststart",
          "-f",
          "mp4",
          partFile,
        ], { timeoutMs: opts.timeoutMs ?? 60_000 + req.duration * 10_000, signal: deps.signal });
        // Renamed only when complete, so poll never sees a half-written file.
        await Deno.rename(partFile, renderedFile(deps.workDir, jobId));
      } catch (err) {
        await Deno.remove(partFile).catch(() => {});
        if (deps.signal?.aborted) throw new ProviderError("The generation ended", false);
        if (err instanceof FfmpegError) {
          throw new ProviderError(`Local render failed: ${err.message}`, err.timedOut);
        }
        throw err;
      } finally {
        await Deno.remove(textFile).catch(() => {});
      }
      return { jobId };
    },

    /** The generation ended: its rendered file (a render still running stops by `signal`). */
    async cancel(jobId, deps) {
      if (!JOB_ID.test(jobId)) return false;
      const dir = renderDir(deps.workDir);
      for (const file of [`${jobId}.mp4`, `${jobId}.part.mp4`, `${jobId}.txt`]) {
        await Deno.remove(`${dir}/${file}`).catch(() => {});
      }
      return true; // a local render costs nothing; its files are gone
    },

    async poll(jobId, deps): Promise<PollResult> {
      if (!JOB_ID.test(jobId)) {
        return { status: "failed", message: `Invalid local job id: ${jobId}`, retryable: false };
      }
      const file = renderedFile(deps.workDir, jobId);
      try {
        const info = await Deno.stat(file);
        if (info.isFile && info.size > 0) return { status: "succeeded", output: { file } };
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      return {
        status: "failed",
        message: `The local render ${jobId} is missing from ${renderDir(deps.workDir)}; ` +
          "it may have been cleaned up or rendered on another machine",
        retryable: false,
      };
    },
  };
}

export const localProvider: ProviderAdapter = createLocalProvider();

/** Older than any render and its pickup: left by a crash (or a lost race), never in use. */
export const STALE_RENDER_MS = 3600_000;
let lastSweepMs = 0;

/**
 * Removes files under the render folder older than STALE_RENDER_MS: what a crash between
 * rendering and storing left behind. Run by submissions, at most once every ten minutes.
 */
export async function sweepStaleRenders(dir: string, nowMs: number, force = false) {
  if (!force && nowMs - lastSweepMs < 600_000) return;
  lastSweepMs = nowMs;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const path = `${dir}/${e.name}`;
    const { mtime } = await Deno.stat(path);
    if (mtime && nowMs - mtime.getTime() > STALE_RENDER_MS) await Deno.remove(path).catch(() => {});
  }
}

function renderDir(workDir: string): string {
  return `${workDir.replace(/\/$/, "")}/local`;
}

function renderedFile(workDir: string, jobId: string): string {
  return `${renderDir(workDir)}/${jobId}.mp4`;
}

const ASPECTS: Record<string, [number, number]> = {
  "16:9": [16, 9],
  "9:16": [9, 16],
  "1:1": [1, 1],
};

/** Pixel size for a resolution (the short side, "480p") and aspect ratio; both even for yuv420p. */
export function videoDimensions(
  resolution: string,
  aspectRatio: string,
): { width: number; height: number } {
  const short = /^(\d{3,4})p$/.exec(resolution)?.[1];
  const aspect = ASPECTS[aspectRatio];
  if (!short || !aspect) {
    throw new ProviderError(
      `Unsupported size for the local model: ${resolution} ${aspectRatio}`,
      false,
    );
  }
  const s = Number(short);
  const [w, h] = aspect;
  const even = (n: number) => Math.round(n / 2) * 2;
  return w >= h ? { width: even((s * w) / h), height: s } : { width: s, height: even((s * h) / w) };
}

/**
 * The prompt as the lines drawn on screen: control characters dropped, words wrapped to the
 * frame, long words broken, and cut with an ellipsis when it would not fit.
 */
export function promptLines(
  prompt: string,
  width: number,
  height: number,
  fontSize: number,
): string {
  const perLine = Math.max(8, Math.floor((width * 0.85) / (fontSize * 0.6)));
  const maxLines = Math.max(1, Math.min(8, Math.floor((height * 0.7) / (fontSize * 1.35))));
  const lines = wrapText(prompt, perLine);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    const last = Array.from(lines[maxLines - 1]).slice(0, perLine - 1).join("");
    lines[maxLines - 1] = `${last.trimEnd()}…`;
  }
  const text = lines.join("\n");
  return text.trim() === "" ? " " : text;
}

export function wrapText(text: string, perLine: number): string[] {
  const lines: string[] = [];
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, " ");
  for (const paragraph of clean.split("\n")) {
    let line: string[] = [];
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let chars = Array.from(word);
      if (line.length > 0 && line.length + 1 + chars.length > perLine) {
        lines.push(line.join(""));
        line = [];
      }
      while (chars.length > perLine) {
        lines.push(chars.slice(0, perLine).join(""));
        chars = chars.slice(perLine);
      }
      line = line.length > 0 ? [...line, " ", ...chars] : chars;
    }
    lines.push(line.join(""));
  }
  while (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

interface PreviewGraph {
  width: number;
  height: number;
  duration: number;
  seed: number;
  textFile: string;
  fontFile: string | undefined;
  fontSize: number;
}

/**
 * A drifting colour field (computed at 32×18 by geq and scaled up, so it costs nearly nothing;
 * works on old ffmpeg builds too) with the prompt drawn in a translucent box at the centre.
 */
export function previewFilterGraph(g: PreviewGraph): string {
  const rand = mulberry32(g.seed);
  const wave = (axis: string) => {
    const phase = (rand() * 2 * Math.PI).toFixed(3);
    const period = (3 + rand() * 4).toFixed(2);
    const dir = rand() < 0.5 ? "-" : "+";
    return `128+80*sin(2*PI*(${axis}${dir}T/${period})+${phase})`;
  };
  const background = [
    `nullsrc=s=32x18:r=${FRAME_RATE}:d=${g.duration}`,
    "format=gbrp",
    `geq=r='${wave("X/W")}':g='${wave("Y/H")}':b='${wave("(X+Y)/(W+H)")}'`,
    `scale=${g.width}:${g.height}:flags=bicubic`,
  ];
  const font = g.fontFile ? `fontfile=${escapeFilterValue(g.fontFile)}:` : "";
  const text = `drawtext=${font}textfile=${escapeFilterValue(g.textFile)}:expansion=none` +
    `:fontsize=${g.fontSize}:fontcolor=white:line_spacing=${Math.round(g.fontSize * 0.3)}` +
    `:box=1:boxcolor=black@0.45:boxborderw=${Math.round(g.fontSize * 0.5)}` +
    ":x=(w-text_w)/2:y=(h-text_h)/2";
  return [...background, text, "format=yuv420p"].join(",");
}

async function defaultFont(): Promise<string | undefined> {
  try {
    return (await Deno.stat(DEJAVU_SANS)).isFile ? DEJAVU_SANS : undefined;
  } catch {
    return undefined; // drawtext then asks fontconfig for its default font
  }
}

/** FNV-1a: the same prompt gets the same background when no seed is given. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
