/**
 * Stored-video download throughput: the same 64 MiB file fetched through output_url (the app,
 * `deno run -A main.ts` with STORAGE=local, signed-URL check and streaming from disk) vs read
 * directly from disk, in the same run, so the serving path's cost is known.
 * `deno run -A scripts/bench_storage.ts` runs it alone; scripts/bench.ts appends its section.
 */
import { signVideoUrl } from "../lib/storage/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SIZE = 64 * 1024 * 1024;
const ROUNDS = Number(Deno.env.get("BENCH_STORAGE_ROUNDS") ?? 5);
const GEN = "gen_01JD0000000000000000000000";
const SECRET = "bench-secret-key-0123456789abcdef0123";

interface Row {
  name: string;
  mibPerSec: number;
  seconds: number;
}

/** Returns the markdown section (a heading and a table) for BENCHMARKS.md. */
export async function benchStorage(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-bench-storage-" });
  let app: Deno.ChildProcess | null = null;
  try {
    const file = `${dir}/data/videos/${GEN}.mp4`;
    await Deno.mkdir(`${dir}/data/videos`, { recursive: true });
    const bytes = new Uint8Array(SIZE);
    bytes.set([0, 0, 0, 24, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
    for (let i = 16; i < SIZE; i += 4096) bytes[i] = i % 251; // not all zeros
    await Deno.writeFile(file, bytes);

    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    app = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: ROOT,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? dir,
        PORT: String(port),
        DENO_KV_PATH: `${dir}/app.sqlite`,
        DATA_DIR: `${dir}/data`,
        SECRET_KEY: SECRET,
        STORAGE: "local",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i++) {
      const up = await fetch(`${base}/healthz`).then((r) => (r.body?.cancel(), r.ok), () => false);
      if (up) break;
      if (i === 599) throw new Error("the app did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = await signVideoUrl(base, SECRET, GEN, Math.floor(Date.now() / 1000) + 3600);

    const direct = await measure("read the file directly (Deno.open, streamed)", async () => {
      using f = await Deno.open(file);
      return await drain(f.readable);
    });
    const served = await measure("download through output_url (local storage)", async () => {
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`output_url answered ${res.status}`);
      return await drain(res.body!);
    });
    const rows = [direct, served];
    const table = [
      "| measurement | MiB/s | seconds for " + `${ROUNDS} × 64 MiB | vs direct |`,
      "|---|---:|---:|---:|",
      ...rows.map((r) =>
        `| ${r.name} | ${r.mibPerSec.toFixed(0)} | ${r.seconds.toFixed(2)} | ${
          ((r.mibPerSec / direct.mibPerSec) * 100).toFixed(0)
        }% |`
      ),
    ].join("\n");
    return `## Stored-video download (scripts/bench_storage.ts)

The same 64 MiB file, ${ROUNDS} times each, on one machine: through the app's signed output_url
(\`deno run -A main.ts\`, STORAGE=local: signature check, then streamed from disk over loopback
HTTP) against reading it from disk in this process. With STORAGE=s3 the app only answers a 302
and the bytes come from the object store.

${table}
`;
  } finally {
    if (app) {
      app.kill("SIGTERM");
      await app.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function measure(name: string, once: () => Promise<number>): Promise<Row> {
  await once(); // warm the page cache and the connection
  const t0 = performance.now();
  let total = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const n = await once();
    if (n !== SIZE) throw new Error(`${name}: read ${n} bytes, expected ${SIZE}`);
    total += n;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { name, mibPerSec: total / 1048576 / seconds, seconds };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.length;
  return n;
}

if (import.meta.main) console.log(await benchStorage());
