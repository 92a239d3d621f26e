/**
 * A fal.ai queue stand-in for fault tests: a real HTTP server on 127.0.0.1 speaking the queue
 * protocol the fal adapter uses (submit, status, result, cancel, the video download), with faults
 * injected per call by a test-supplied policy. It counts what a test asserts on: jobs started per
 * prompt (duplicates), cancels, and downloads.
 */
import { makeTinyMp4 } from "./video.ts";

/** What the stand-in does with one call instead of answering normally. */
export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answers (until the client gives up). */
  | "hang"
  /** Sends part of the body, then cuts the connection. */
  | "truncate"
  | null;

export interface FalFaults {
  /** n counts submits from 0 (all endpoints together). */
  submit?: (n: number, prompt: string) => Fault;
  status?: (n: number, id: string) => Fault;
  download?: (n: number, id: string) => Fault;
  /** A job's outcome, decided at submit: how long it runs and whether it fails. */
  job?: (n: number, prompt: string) => { runMs: number; error?: string };
  /** Delay before every answer (network and queue latency). */
  latencyMs?: () => number;
}

interface StandinJob {
  id: string;
  prompt: string;
  readyAt: number;
  error?: string;
  cancelled: boolean;
}

export interface FalStandin extends AsyncDisposable {
  url: string;
  /** Env for the app or adapter: FAL_KEY and FAL_QUEUE_URL pointing here. */
  env: { FAL_KEY: string; FAL_QUEUE_URL: string };
  jobs: StandinJob[];
  /** Upstream jobs started per prompt. */
  jobsFor(prompt: string): StandinJob[];
  counts: { submit: number; status: number; download: number; cancel: number };
  /** Resolves when a download request has started (the next one after the call). */
  downloadStarted(): Promise<string>;
  close(): Promise<void>;
}

const KEY = "fal-standin-key-0123456789";

export async function startFalStandin(faults: FalFaults = {}): Promise<FalStandin> {
  const dir = await Deno.makeTempDir({ prefix: "pv-fal-" });
  await makeTinyMp4(`${dir}/v.mp4`, 1);
  const video = await Deno.readFile(`${dir}/v.mp4`);
  await Deno.remove(dir, { recursive: true });

  const jobs: StandinJob[] = [];
  const byId = new Map<string, StandinJob>();
  const counts = { submit: 0, status: 0, download: 0, cancel: 0 };
  const hanging = new Set<() => void>();
  let downloadWaiters: ((id: string) => void)[] = [];
  let base = "";

  const faulty = (f: Fault, signal: AbortSignal): Response | Promise<Response> | null => {
    if (f === null) return null;
    if (f === "hang") {
      // Answers only once the client gives up (or the stand-in closes).
      return new Promise((resolve) => {
        const done = () => resolve(new Response("gone", { status: 499 }));
        hanging.add(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
    if (f === "truncate") return truncated(video);
    return json(f.body ?? { detail: `injected ${f.status}` }, f.status, f.headers);
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const latency = faults.latencyMs?.() ?? 0;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const path = new URL(req.url).pathname;
    if (req.headers.get("authorization") !== `Key ${KEY}`) {
      if (!path.startsWith("/videos/")) return json({ detail: "bad key" }, 401);
    }
    let m = path.match(/^\/videos\/([\w-]+)\.mp4$/);
    if (m && req.method === "GET") {
      const n = counts.download++;
      for (const w of downloadWaiters) w(m[1]);
      downloadWaiters = [];
      return await (faulty(faults.download?.(n, m[1]) ?? null, req.signal) ??
        new Response(video, { headers: { "content-type": "video/mp4" } }));
    }
    m = path.match(/^\/requests\/([\w-]+)(\/status|\/cancel)?$/);
    if (m) {
      const job = byId.get(m[1]);
      if (!job) return json({ detail: "no such request" }, 404);
      if (m[2] === "/cancel" && req.method === "PUT") {
        counts.cancel++;
        const done = Date.now() >= job.readyAt;
        if (!done) job.cancelled = true;
        return done
          ? json({ status: "ALREADY_COMPLETED" }, 400)
          : json({ status: "CANCELLATION_REQUESTED" }, 202);
      }
      if (m[2] === "/status") {
        const n = counts.status++;
        const f = faulty(faults.status?.(n, job.id) ?? null, req.signal);
        if (f) return await f;
        if (job.cancelled) {
          return json({ status: "COMPLETED", error: "cancelled", error_type: "cancelled" });
        }
        if (Date.now() < job.readyAt) return json({ status: "IN_PROGRESS" });
        return json(
          job.error
            ? { status: "COMPLETED", error: job.error, error_type: "internal_server_error" }
            : { status: "COMPLETED" },
        );
      }
      return json({ video: { url: `${base}/videos/${job.id}.mp4` } });
    }
    if (req.method === "POST") {
      const body = await req.json().catch(() => ({}));
      const prompt = String(body.prompt ?? "");
      const n = counts.submit++;
      const f = faulty(faults.submit?.(n, prompt) ?? null, req.signal);
      if (f) return await f;
      const id = crypto.randomUUID();
      const outcome = faults.job?.(n, prompt) ?? { runMs: 0 };
      const job = {
        id,
        prompt,
        readyAt: Date.now() + outcome.runMs,
        error: outcome.error,
        cancelled: false,
      };
      jobs.push(job);
      byId.set(id, job);
      const r = `${base}/requests/${id}`;
      return json({
        request_id: id,
        status_url: `${r}/status`,
        response_url: r,
        cancel_url: `${r}/cancel`,
      });
    }
    return json({ detail: "not found" }, 404);
  });
  base = `http://127.0.0.1:${server.addr.port}`;

  const close = async () => {
    for (const done of hanging) done();
    await server.shutdown();
  };
  return {
    url: base,
    env: { FAL_KEY: KEY, FAL_QUEUE_URL: base },
    jobs,
    jobsFor: (prompt) => jobs.filter((j) => j.prompt === prompt),
    counts,
    downloadStarted: () => new Promise((resolve) => downloadWaiters.push(resolve)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function json(body: unknown, status = 200, headers?: Record<string, string>) {
  return Response.json(body, { status, headers });
}

/** Half the video, then the stream errors: the client sees a cut connection. */
function truncated(video: Uint8Array): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(video.subarray(0, Math.floor(video.length / 2)));
      c.error(new Error("connection cut"));
    },
  });
  return new Response(stream, {
    headers: { "content-type": "video/mp4", "content-length": String(video.length) },
  });
}
