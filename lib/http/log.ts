import { activeTraceId, tracingOn } from "../telemetry/traces.ts";

/** One JSON line per event. Never given secrets: callers pass paths without query strings. */
export type Logger = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** What background work (jobs, sweeps, alerts) logs with: a message and, on a failure, the error. */
export type BackgroundLog = (message: string, err?: unknown) => void;

/** A BackgroundLog writing to `log`: an error makes an error line with the error's text. */
export function backgroundLog(log: Logger): BackgroundLog {
  return (message, err) => log(err ? "error" : "info", message, err ? { error: String(err) } : {});
}

export function jsonLogger(write: (line: string) => void = bufferedStdout()): Logger {
  return (level, msg, fields = {}) => {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...fields };
    // With tracing on, each line names its trace, so a log search leads to the trace.
    if (tracingOn) line.trace_id ??= activeTraceId();
    write(JSON.stringify(line));
  };
}

/**
 * Writes lines to stdout in batches: a synchronous write per request line cost more than the
 * request itself under load. Lines are flushed within `intervalMs`, when the buffer is large,
 * and synchronously when the process exits, so none is lost on a normal shutdown.
 */
export function bufferedStdout(
  out: { writeSync(p: Uint8Array): number } = Deno.stdout,
  opts: { intervalMs?: number; maxBytes?: number } = {},
): (line: string) => void {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending.length) return;
    const bytes = encoder.encode(pending.join("\n") + "\n");
    pending = [];
    size = 0;
    for (let off = 0; off < bytes.length;) off += out.writeSync(bytes.subarray(off));
  };
  globalThis.addEventListener("unload", flush);
  return (line) => {
    pending.push(line);
    size += line.length;
    if (size >= (opts.maxBytes ?? 64 * 1024)) flush();
    else timer ??= setTimeout(flush, opts.intervalMs ?? 100);
  };
}
