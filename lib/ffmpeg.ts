/**
 * Finding and running ffmpeg (DESIGN.md: Debian's `ffmpeg` on PATH first, else the binary that
 * ships in the npm package `@ffmpeg-installer/ffmpeg`). Always argv, never a shell.
 */

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export interface FindFfmpegOptions {
  /** The PATH to search; defaults to the process's PATH. */
  pathEnv?: string;
  /** Resolves the npm package's binary path; injected so tests can supply their own file. */
  npmBinary?: () => Promise<string>;
}

/** The path of an ffmpeg binary that can be executed; throws when there is none. */
export async function findFfmpeg(opts: FindFfmpegOptions = {}): Promise<string> {
  const pathEnv = opts.pathEnv ?? Deno.env.get("PATH") ?? "";
  for (const dir of pathEnv.split(":").filter(Boolean)) {
    const candidate = `${dir.replace(/\/$/, "")}/ffmpeg`;
    if (await isExecutableFile(candidate)) return candidate;
  }
  const npmPath = await (opts.npmBinary ?? npmFfmpegPath)().catch((err) => {
    throw new FfmpegError(
      `ffmpeg not found on PATH and the npm binary is missing: ${err}`,
      null,
      "",
    );
  });
  if (!(await isExecutableFile(npmPath))) {
    // Deno may skip the package's install script, which is what normally sets the mode.
    await Deno.chmod(npmPath, 0o755);
  }
  return npmPath;
}

let defaultFfmpeg: Promise<string> | undefined;

/** findFfmpeg() for the process, looked up once; a failed lookup is retried next time. */
export function defaultFfmpegPath(): Promise<string> {
  defaultFfmpeg ??= findFfmpeg().catch((err) => {
    defaultFfmpeg = undefined;
    throw err;
  });
  return defaultFfmpeg;
}

async function npmFfmpegPath(): Promise<string> {
  // Imported lazily: the package throws at import time when its binary is absent.
  const mod = await import("@ffmpeg-installer/ffmpeg");
  return (mod.default ?? mod).path as string;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && info.mode !== null && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export interface RunFfmpegOptions {
  timeoutMs: number;
  cwd?: string;
  /** Kills the process when aborted (the generation was cancelled). */
  signal?: AbortSignal;
}

/**
 * Runs ffmpeg with `args` (quiet: errors only on stderr). Throws FfmpegError with the tail of
 * stderr on a non-zero exit, and kills the process when it runs past `timeoutMs`. Returns what
 * ffmpeg reported on stderr despite succeeding (errors it chose to survive).
 */
export async function runFfmpeg(
  ffmpegPath: string,
  args: string[],
  opts: RunFfmpegOptions,
): Promise<{ stderr: string }> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, opts.timeoutMs);
  const stop = () => abort.abort();
  opts.signal?.addEventListener("abort", stop);
  try {
    if (opts.signal?.aborted) throw new FfmpegError("ffmpeg was cancelled", null, "");
    const child = new Deno.Command(ffmpegPath, {
      args: ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", ...args],
      cwd: opts.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: abort.signal,
    }).spawn();
    const { code, stderr } = await child.output();
    const text = tail(new TextDecoder().decode(stderr), 2000);
    if (opts.signal?.aborted) throw new FfmpegError("ffmpeg was cancelled", null, text);
    if (timedOut) {
      throw new FfmpegError(`ffmpeg timed out after ${opts.timeoutMs} ms`, null, text, true);
    }
    if (code !== 0) {
      throw new FfmpegError(
        `ffmpeg exited with code ${code}: ${text || "(no output)"}`,
        code,
        text,
      );
    }
    return { stderr: text };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", stop);
  }
}

function tail(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/**
 * Quotes a value for an ffmpeg filter option inside a filter graph (two levels of escaping:
 * the option value, then the graph), so paths with `:`, `'`, `,` or `\` stay one value.
 */
export function escapeFilterValue(value: string): string {
  // Level 1 (option value): wrap in quotes; a quote is closed, escaped and reopened.
  const level1 = `'${value.replaceAll("'", `'\\''`)}'`;
  // Level 2 (filter graph): escape the graph's special characters, backslash first.
  return level1.replace(/[\\'\[\],;]/g, (c) => `\\${c}`);
}
