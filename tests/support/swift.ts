/**
 * A real S3-protocol server for tests: Debian's OpenStack Swift with its s3api and tempauth
 * middlewares (SigV4 is verified: a wrong secret is refused). tests/support/swift_server.py builds
 * the rings, writes the configs and serves proxy, account, container and object servers on
 * loopback ports the kernel picks, with data in a temp dir that close() removes.
 */
import { AwsClient } from "aws4fetch";
import type { S3Settings } from "../../lib/storage/s3.ts";
import { notInUnitLane } from "./lane.ts";

export interface SwiftS3 {
  /** `http://127.0.0.1:<port>`: the S3 endpoint (path-style). */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Milliseconds from spawn to the first answered request. */
  startupMs: number;
  close(): Promise<void>;
}

const SCRIPT = new URL("./swift_server.py", import.meta.url).pathname;
// About 7 s on a busy machine, 20 s with the suite in parallel on 2 cores; generous for CI.
const STARTUP_TIMEOUT_MS = 120_000;

export async function startSwiftS3(): Promise<SwiftS3> {
  notInUnitLane("OpenStack Swift");
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-swift-" });
  const child = new Deno.Command("/usr/bin/python3", {
    args: [SCRIPT, dir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  }).spawn();
  const stderr = collect(child.stderr);
  const close = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const port = await readPort(child.stdout, stderr);
    const endpoint = `http://127.0.0.1:${port}`;
    await waitReady(endpoint, started);
    return {
      endpoint,
      region: "us-east-1",
      accessKeyId: "test:tester",
      secretAccessKey: "testing",
      startupMs: Math.round(performance.now() - started),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function readPort(stdout: ReadableStream<Uint8Array>, stderr: Promise<string>) {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => reader.cancel(), STARTUP_TIMEOUT_MS);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
  const line = text.split("\n")[0];
  if (!line) {
    await reader.cancel().catch(() => {});
    throw new Error(`Swift did not start:\n${await stderr}`);
  }
  // Drain the rest so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
  return JSON.parse(line).port as number;
}

/** The proxy answers /info once its pipeline is loaded (it is, before the port is printed). */
async function waitReady(endpoint: string, started: number) {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const res = await fetch(`${endpoint}/info`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not yet */ }
    if (performance.now() - started > STARTUP_TIMEOUT_MS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Swift at ${endpoint} did not answer within ${STARTUP_TIMEOUT_MS} ms`);
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text = (text + decoder.decode(chunk, { stream: true })).slice(-8000);
  }
  return text;
}

/** A client with the server's own (right) credentials, for setting up and inspecting buckets. */
export function swiftClient(s3: SwiftS3): AwsClient {
  const { accessKeyId, secretAccessKey, region } = s3;
  return new AwsClient({ accessKeyId, secretAccessKey, region, service: "s3", retries: 0 });
}

export async function createBucket(s3: SwiftS3, bucket: string): Promise<void> {
  const res = await swiftClient(s3).fetch(`${s3.endpoint}/${bucket}`, { method: "PUT" });
  if (!res.ok) throw new Error(`creating bucket ${bucket}: HTTP ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

/** Keys in the bucket plus unfinished multipart uploads (both empty after a failed store). */
export async function bucketState(s3: SwiftS3, bucket: string): Promise<string[]> {
  const client = swiftClient(s3);
  const keys = await client.fetch(`${s3.endpoint}/${bucket}?list-type=2`).then((r) => r.text());
  const uploads = await client.fetch(`${s3.endpoint}/${bucket}?uploads`).then((r) => r.text());
  return [
    ...[...keys.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]),
    ...[...uploads.matchAll(/<UploadId>([^<]*)<\/UploadId>/g)].map((m) => `upload:${m[1]}`),
  ].sort();
}

/** The app's environment for storing videos in `bucket` on this server. */
export function s3Env(s3: SwiftS3, bucket: string): Record<string, string> {
  return {
    STORAGE: "s3",
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
  };
}

/** s3Backend's settings for `bucket` on this server, with no key prefix. */
export function s3Settings(s3: SwiftS3, bucket: string): S3Settings {
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    prefix: "",
  };
}
