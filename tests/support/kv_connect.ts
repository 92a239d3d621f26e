import protobuf from "protobufjs";

/**
 * A KV Connect server for the tests: the protocol Deno's remote KV client speaks to `denokv` and
 * Deno Deploy (`Deno.openKv("http://…")` with DENO_KV_ACCESS_TOKEN), as denokv 0.12 serves it
 * (denoland/denokv: proto/kv-connect.md, proto/schema/datapath.proto, denokv/main.rs,
 * proto/convert.rs, proto/limits.rs), backed by a local SQLite Deno KV.
 *
 * - Metadata exchange at POST / (protocol 2 or 3, bearer token), data path under /v2:
 *   snapshot_read, atomic_write, watch (length-prefixed WatchOutput frames, empty pings every 5 s).
 * - denokv's limits, refused with a 400 as denokv does, and counted (`refused`): 10 ranges per
 *   read, 1000 entries per read, 10 checks, 1000 mutations, keys of 2048 bytes, values of 65536,
 *   819200 bytes per write, 10 watched keys. A wrong token is a 401.
 * - Keys are stored as the wire bytes (one Uint8Array key part: the backing KV orders them as the
 *   bytes), values as they came (KvU64 for little-endian u64, so sum/min/max run in SQLite; V8
 *   bytes wrapped, never decoded), versionstamps are SQLite's.
 * - Reads and writes run one at a time, so a read of several ranges is one snapshot, as in denokv.
 *
 * Not denokv: no queues (enqueues are refused), no versionstamped-key mutations, no clamped sums,
 * no replication or point-in-time recovery, one process and one SQLite file.
 */

// The messages of denokv's proto/schema/datapath.proto (MIT) that a client without queues uses.
const DATAPATH = `
syntax = "proto3";
package com.deno.kv.datapath;
message SnapshotRead { repeated ReadRange ranges = 1; }
message SnapshotReadOutput {
  repeated ReadRangeOutput ranges = 1;
  bool read_disabled = 2;
  bool read_is_strongly_consistent = 4;
  SnapshotReadStatus status = 8;
}
enum SnapshotReadStatus { SR_UNSPECIFIED = 0; SR_SUCCESS = 1; SR_READ_DISABLED = 2; }
message ReadRange { bytes start = 1; bytes end = 2; int32 limit = 3; bool reverse = 4; }
message ReadRangeOutput { repeated KvEntry values = 1; }
message AtomicWrite {
  repeated Check checks = 1;
  repeated Mutation mutations = 2;
  repeated Enqueue enqueues = 3;
}
message AtomicWriteOutput {
  AtomicWriteStatus status = 1;
  bytes versionstamp = 2;
  repeated uint32 failed_checks = 4;
}
message Check { bytes key = 1; bytes versionstamp = 2; }
message Mutation {
  bytes key = 1;
  KvValue value = 2;
  MutationType mutation_type = 3;
  int64 expire_at_ms = 4;
  bytes sum_min = 5;
  bytes sum_max = 6;
  bool sum_clamp = 7;
}
message KvValue { bytes data = 1; ValueEncoding encoding = 2; }
message KvEntry { bytes key = 1; bytes value = 2; ValueEncoding encoding = 3; bytes versionstamp = 4; }
enum MutationType {
  M_UNSPECIFIED = 0; M_SET = 1; M_DELETE = 2; M_SUM = 3; M_MAX = 4; M_MIN = 5;
  M_SET_SUFFIX_VERSIONSTAMPED_KEY = 9;
}
enum ValueEncoding { VE_UNSPECIFIED = 0; VE_V8 = 1; VE_LE64 = 2; VE_BYTES = 3; }
enum AtomicWriteStatus { AW_UNSPECIFIED = 0; AW_SUCCESS = 1; AW_CHECK_FAILURE = 2; AW_WRITE_DISABLED = 5; }
message Enqueue {
  bytes payload = 1;
  int64 deadline_ms = 2;
  repeated bytes keys_if_undelivered = 3;
  repeated uint32 backoff_schedule = 4;
}
message Watch { repeated WatchKey keys = 1; }
message WatchOutput { SnapshotReadStatus status = 1; repeated WatchKeyOutput keys = 2; }
message WatchKey { bytes key = 1; }
message WatchKeyOutput { bool changed = 1; KvEntry entry_if_changed = 2; }
`;

const root = protobuf.parse(DATAPATH, { keepCase: true }).root;
const message = (name: string) => root.lookupType(`com.deno.kv.datapath.${name}`);
const pb = {
  SnapshotRead: message("SnapshotRead"),
  SnapshotReadOutput: message("SnapshotReadOutput"),
  AtomicWrite: message("AtomicWrite"),
  AtomicWriteOutput: message("AtomicWriteOutput"),
  Watch: message("Watch"),
  WatchOutput: message("WatchOutput"),
};

/** denokv 0.12's proto/limits.rs. */
export const DENOKV_LIMITS = {
  readRanges: 10,
  readEntries: 1000,
  checks: 10,
  mutations: 1000,
  writeKeyBytes: 2048,
  readKeyBytes: 2049,
  valueBytes: 65536,
  mutationBytes: 819200,
  watchedKeys: 10,
};

const SR_SUCCESS = 1;
const AW_SUCCESS = 1;
const AW_CHECK_FAILURE = 2;
const [VE_V8, VE_LE64, VE_BYTES] = [1, 2, 3];
const [M_SET, M_DELETE, M_SUM, M_MAX, M_MIN] = [1, 2, 3, 4, 5];
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** A V8-serialized value as stored: the client's bytes, never decoded here. */
interface V8Value {
  v8: Uint8Array;
}

interface WireRange {
  start: Uint8Array;
  end: Uint8Array;
  limit: number;
  reverse: boolean;
}
interface WireValue {
  data: Uint8Array;
  encoding: number;
}
interface WireMutation {
  key: Uint8Array;
  value?: WireValue;
  mutation_type: number;
  expire_at_ms?: number | { toNumber(): number };
  sum_min?: Uint8Array;
  sum_max?: Uint8Array;
  sum_clamp?: boolean;
}
interface WireWrite {
  checks: { key: Uint8Array; versionstamp: Uint8Array }[];
  mutations: WireMutation[];
  enqueues: unknown[];
}

/** A request beyond denokv's limits or outside what this server does: a 400, counted. */
class Refused extends Error {}

export interface KvConnectServer {
  /** The URL to give `Deno.openKv` / DENO_KV_PATH. */
  url: string;
  /** The access token (DENO_KV_ACCESS_TOKEN). */
  token: string;
  /** Data-path requests refused (beyond a limit, unsupported, or failed here), with why. */
  refused: string[];
  /**
   * Atomic writes that landed, and that failed a check; requests whose body never arrived whole
   * (a client killed mid-request: not a refusal, nothing was read or written).
   */
  stats: { writes: number; checkFailures: number; reads: number; abandoned: number };
  /** Stops serving (open connections are dropped); `start` serves again on the same port. */
  stop(): Promise<void>;
  start(): void;
  /** Stops serving and closes the backing KV. */
  close(): Promise<void>;
}

/** Serves KV Connect on 127.0.0.1 (port 0: any free one) over the SQLite KV at `path`. */
export async function startKvConnect(
  opts: { path: string; token?: string; port?: number },
): Promise<KvConnectServer> {
  const token = opts.token ?? `kvtoken-${crypto.randomUUID()}`;
  const kv = await Deno.openKv(opts.path);
  const refused: string[] = [];
  const stats = { writes: 0, checkFailures: 0, reads: 0, abandoned: 0 };
  // One operation at a time: a multi-range read is one snapshot, as in denokv.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };
  const watchers = new Set<AbortController>();

  async function handle(req: Request, gone: Promise<unknown>): Promise<Response> {
    const url = new URL(req.url);
    if (req.method !== "POST") return text(405, "method not allowed");
    if (url.pathname === "/") return metadata(req);
    const denied = authorize(req);
    if (denied) return denied;
    let body: Uint8Array;
    try {
      body = new Uint8Array(await req.arrayBuffer());
    } catch {
      // The client died mid-request (a SIGKILLed instance): nothing was read, nothing written.
      stats.abandoned++;
      return text(400, "request body cut off");
    }
    try {
      switch (url.pathname) {
        case "/v2/snapshot_read":
          return proto(pb.SnapshotReadOutput, await serial(() => snapshotRead(body)));
        case "/v2/atomic_write":
          return proto(pb.AtomicWriteOutput, await serial(() => atomicWrite(body)));
        case "/v2/watch":
          return watch(body, gone);
        default:
          return text(404, "not found");
      }
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      refused.push(`${url.pathname}: ${err.message}`);
      return text(400, err.message);
    }
  }

  function metadata(req: Request): Promise<Response> | Response {
    if (bearer(req) !== token) return text(401, "Invalid access token.");
    return req.json().then((b: { supportedVersions?: number[] }) => {
      const versions = b?.supportedVersions ?? [1];
      const version = versions.includes(3) ? 3 : versions.includes(2) ? 2 : 0;
      if (!version) return text(400, "The server requires protocol version 2 or 3.");
      return Response.json({
        version,
        databaseId: NIL_UUID,
        endpoints: [{ url: "/v2", consistency: "strong" }],
        token,
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
    }, () => text(400, "The metadata request body is not JSON."));
  }

  function authorize(req: Request): Response | null {
    const version = req.headers.get("x-denokv-version");
    if (version !== "2" && version !== "3") return text(400, "Expected protocol version 2.");
    if (bearer(req) !== token) return text(401, "Invalid access token.");
    if (req.headers.get("x-denokv-database-id") !== NIL_UUID) {
      return text(400, "Invalid database id.");
    }
    return null;
  }

  async function snapshotRead(body: Uint8Array) {
    const read = decode<{ ranges: WireRange[] }>(pb.SnapshotRead, body);
    if (read.ranges.length > DENOKV_LIMITS.readRanges) {
      throw new Refused(`Too many read ranges (${read.ranges.length}, max 10).`);
    }
    let total = 0;
    for (const r of read.ranges) {
      if (r.limit <= 0) throw new Refused("Invalid read range limit.");
      total += r.limit;
      if (
        r.start.length > DENOKV_LIMITS.readKeyBytes || r.end.length > DENOKV_LIMITS.readKeyBytes
      ) {
        throw new Refused("Key too long.");
      }
    }
    if (total > DENOKV_LIMITS.readEntries) throw new Refused("Read range too large.");
    stats.reads++;
    const ranges = [];
    for (const r of read.ranges) {
      const values = [];
      const it = kv.list({ start: [r.start.slice()], end: [r.end.slice()] }, {
        limit: r.limit,
        reverse: r.reverse,
      });
      for await (const e of it) values.push(wireEntry(e));
      ranges.push({ values });
    }
    return { ranges, read_disabled: false, read_is_strongly_consistent: true, status: SR_SUCCESS };
  }

  async function atomicWrite(body: Uint8Array) {
    const w = decode<WireWrite>(pb.AtomicWrite, body);
    if (w.checks.length > DENOKV_LIMITS.checks) {
      throw new Refused(`Too many checks (${w.checks.length}, max 10).`);
    }
    if (w.mutations.length + w.enqueues.length > DENOKV_LIMITS.mutations) {
      throw new Refused("Too many mutations.");
    }
    if (w.enqueues.length > 0) throw new Refused("Queues are not served by this stand-in.");
    let bytes = 0;
    const a = kv.atomic();
    for (const c of w.checks) {
      if (c.key.length > DENOKV_LIMITS.readKeyBytes) throw new Refused("Key too long.");
      if (c.versionstamp.length !== 0 && c.versionstamp.length !== 10) {
        throw new Refused("Invalid versionstamp.");
      }
      bytes += c.key.length;
      a.check({
        key: [c.key.slice()],
        versionstamp: c.versionstamp.length ? hex(c.versionstamp) : null,
      });
    }
    for (const m of w.mutations) {
      if (m.key.length > DENOKV_LIMITS.writeKeyBytes) throw new Refused("Key too long.");
      const size = m.value?.data.length ?? 0;
      if (size > DENOKV_LIMITS.valueBytes) throw new Refused("Value too long.");
      bytes += m.key.length + size;
      if (m.sum_min?.length || m.sum_max?.length || m.sum_clamp) {
        throw new Refused("Clamped sums are not served by this stand-in.");
      }
      const key = [m.key.slice()];
      const expireAt = Number(m.expire_at_ms ?? 0);
      const expireIn = expireAt > 0 ? Math.max(1, expireAt - Date.now()) : undefined;
      switch (m.mutation_type) {
        case M_SET:
          a.set(key, storedValue(m.value), expireIn ? { expireIn } : undefined);
          break;
        case M_DELETE:
          a.delete(key);
          break;
        case M_SUM:
        case M_MAX:
        case M_MIN: {
          const v = storedValue(m.value);
          if (!(v instanceof Deno.KvU64)) throw new Refused("Type mismatch: expected a u64.");
          if (m.mutation_type === M_SUM) a.sum(key, v.value);
          else if (m.mutation_type === M_MAX) a.max(key, v.value);
          else a.min(key, v.value);
          break;
        }
        default:
          throw new Refused(`Mutation kind ${m.mutation_type} is not served by this stand-in.`);
      }
    }
    if (bytes > DENOKV_LIMITS.mutationBytes) throw new Refused("Atomic write too large.");
    const res = await a.commit();
    if (!res.ok) {
      stats.checkFailures++;
      return { status: AW_CHECK_FAILURE };
    }
    stats.writes++;
    return { status: AW_SUCCESS, versionstamp: unhex(res.versionstamp) };
  }

  /** Streams the keys' changes until the client goes away (`gone`) or the server stops. */
  function watch(body: Uint8Array, gone: Promise<unknown>): Response {
    const w = decode<{ keys: { key: Uint8Array }[] }>(pb.Watch, body);
    if (w.keys.length > DENOKV_LIMITS.watchedKeys) throw new Refused("Too many keys watched.");
    for (const k of w.keys) {
      if (k.key.length > DENOKV_LIMITS.writeKeyBytes) throw new Refused("Key too long.");
    }
    const stop = new AbortController();
    watchers.add(stop);
    const done = () => {
      stop.abort();
      watchers.delete(stop);
    };
    gone.finally(done).catch(() => {});
    const frame = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
      const out = new Uint8Array(4 + bytes.length);
      new DataView(out.buffer).setUint32(0, bytes.length, true);
      out.set(bytes, 4);
      return out;
    };
    const source = kv.watch(w.keys.map((k) => [k.key.slice()]));
    const seen: (string | null | undefined)[] = w.keys.map(() => undefined);
    const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
      async start(controller) {
        const ping = setInterval(() => {
          try {
            controller.enqueue(frame(new Uint8Array()));
          } catch { /* the client went away; the loop below ends */ }
        }, 5000);
        const reader = source.getReader();
        stop.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
        try {
          for (;;) {
            const { value, done: ended } = await reader.read();
            if (ended) break;
            const keys = value.map((e, i) => {
              if (seen[i] !== undefined && seen[i] === e.versionstamp) return { changed: false };
              seen[i] = e.versionstamp;
              return { changed: true, entry_if_changed: e.versionstamp ? wireEntry(e) : undefined };
            });
            controller.enqueue(frame(encode(pb.WatchOutput, { status: SR_SUCCESS, keys })));
          }
        } catch {
          // The backing KV closed or the client went away.
        } finally {
          clearInterval(ping);
          done();
          try {
            controller.close();
          } catch { /* already cancelled */ }
        }
      },
      cancel: done,
    });
    return new Response(stream, { headers: { "content-type": "application/octet-stream" } });
  }

  let server: Deno.HttpServer | null = null;
  let port = opts.port ?? 0;
  const start = () => {
    let listening!: (addr: Deno.NetAddr) => void;
    const ready = new Promise<Deno.NetAddr>((r) => listening = r);
    server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: listening },
      (req, info) =>
        handle(req, info.completed).catch((err) => {
          // A fault of the stand-in itself: counted, so a test sees it.
          refused.push(`internal error: ${err}`);
          return text(500, String(err));
        }),
    );
    return ready;
  };
  port = (await start()).port;
  const stop = async () => {
    for (const w of watchers) w.abort();
    await server?.shutdown();
    server = null;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    refused,
    stats,
    stop,
    start: () => void start(),
    async close() {
      await stop();
      await chain;
      kv.close();
    },
  };
}

function bearer(req: Request): string | null {
  const m = /^bearer (.+)$/i.exec(req.headers.get("authorization") ?? "");
  return m ? m[1] : null;
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}

function decode<T>(type: protobuf.Type, body: Uint8Array): T {
  let msg;
  try {
    msg = type.decode(body);
  } catch (err) {
    throw new Refused(`Invalid request protobuf: ${err}`);
  }
  return type.toObject(msg, { defaults: true, arrays: true, longs: Number }) as T;
}

function encode(type: protobuf.Type, obj: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(type.encode(type.fromObject(obj)).finish());
}

function proto(type: protobuf.Type, obj: Record<string, unknown>): Response {
  return new Response(encode(type, obj), {
    headers: { "content-type": "application/x-protobuf" },
  });
}

/** A wire value as the backing KV stores it (see the module comment). */
function storedValue(v: WireValue | undefined): unknown {
  if (!v) throw new Refused("A set needs a value.");
  // Copies: a decoded field is a view of the whole request, which the store would keep entire.
  if (v.encoding === VE_BYTES) return v.data.slice();
  if (v.encoding === VE_V8) return { v8: v.data.slice() } satisfies V8Value;
  if (v.encoding === VE_LE64) {
    if (v.data.length !== 8) throw new Refused("A u64 value must be 8 bytes.");
    return new Deno.KvU64(new DataView(v.data.buffer, v.data.byteOffset, 8).getBigUint64(0, true));
  }
  throw new Refused(`Unknown value encoding ${v.encoding}.`);
}

function wireEntry(e: Deno.KvEntry<unknown>) {
  const key = e.key[0] as Uint8Array;
  const v = e.value;
  let value: Uint8Array;
  let encoding: number;
  if (v instanceof Deno.KvU64) {
    value = new Uint8Array(8);
    new DataView(value.buffer).setBigUint64(0, v.value, true);
    encoding = VE_LE64;
  } else if (v instanceof Uint8Array) {
    [value, encoding] = [v, VE_BYTES];
  } else [value, encoding] = [(v as V8Value).v8, VE_V8];
  return { key, value, encoding, versionstamp: unhex(e.versionstamp) };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
