import { AppError, BadRequest } from "../errors.ts";

/**
 * Opens the one Deno KV database of the process. Key shapes live in the other modules of lib/db/.
 * The handle lives within denokv's limits in every mode (see guardKv) and retries what a busy
 * SQLite file or a KV server that is away refuses for a moment (see retryTransient).
 */
export async function openKv(path: string | undefined): Promise<Deno.Kv> {
  // Undefined: the platform's own KV (Deno Deploy).
  const remote = path === undefined || /^https?:\/\//.test(path);
  if (path !== ":memory:" && !remote) {
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  }
  return guardKv(await Deno.openKv(path), { deadlineMs: remote ? REMOTE_DEADLINE_MS : undefined });
}

/**
 * How long a call to a KV server may take before the request that made it gets a 503. Deno's KV
 * Connect client retries network errors and 5xx answers itself, without end, so a KV server that
 * is away shows as a call that does not return; the call goes on in the background (a commit may
 * still land: see KvUnavailable).
 */
export const REMOTE_DEADLINE_MS = 10_000;

/**
 * denokv's limits (denoland/denokv 0.12, proto/limits.rs), the strictest engine the app runs on.
 * Deno's SQLite KV allows 100 checks per commit; the others it shares with denokv.
 */
export const KV_LIMITS = {
  checks: 10,
  getManyKeys: 10,
  watchedKeys: 10,
  keyBytes: 2048,
  valueBytes: 65536,
  mutations: 1000,
  mutationBytes: 819200,
} as const;

export type KvLimit = keyof typeof KV_LIMITS;

/** A KV call beyond one of denokv's limits: a bug in the caller, refused before it is sent. */
export class KvLimitExceeded extends Error {
  constructor(readonly limit: KvLimit, detail: string, options?: ErrorOptions) {
    super(`KV limit ${limit} (${KV_LIMITS[limit]}, as denokv enforces): ${detail}`, options);
    this.name = "KvLimitExceeded";
  }
}

// What Deno's own KV throws for the limits it shares with denokv, by limit.
const DENO_LIMIT_ERRORS: [RegExp, KvLimit][] = [
  [/Too many ranges/i, "getManyKeys"],
  [/Too many keys/i, "watchedKeys"],
  [/Key too large/i, "keyBytes"],
  [/Value too large/i, "valueBytes"],
  [/Too many mutations/i, "mutations"],
  [/Total (mutation|key) size too large/i, "mutationBytes"],
  [/Too many checks/i, "checks"],
];

/** A limit error of Deno's KV as KvLimitExceeded; anything else as it was. */
function asLimitError(err: unknown): unknown {
  if (!(err instanceof TypeError)) return err;
  const hit = DENO_LIMIT_ERRORS.find(([re]) => re.test(err.message));
  return hit ? new KvLimitExceeded(hit[1], err.message, { cause: err }) : err;
}

/**
 * `kv` within denokv's limits and retried on transient failures:
 * - a commit with more than 10 checks, a getMany of more than 10 keys, a watch of more than 10
 *   keys throw KvLimitExceeded before anything is sent (SQLite would take them, denokv refuses
 *   them); Deno's own errors for keys, values and mutations are thrown as KvLimitExceeded too;
 * - reads, commits and plain set/delete go through retryTransient, and with `deadlineMs` (a
 *   remote KV) fail with KvUnavailable when they have not returned by then.
 */
export function guardKv(kv: Deno.Kv, opts: { deadlineMs?: number } = {}): Deno.Kv {
  const retry = <T>(op: () => Promise<T>) =>
    retryTransient(() => withDeadline(op(), opts.deadlineMs));
  // Methods are bound once: the poll path calls getMany on every request.
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(kv, {
    get(target, prop) {
      if (methods.has(prop)) return methods.get(prop);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const call = (args: unknown[]) => value.apply(target, args);
      let method;
      if (prop === "atomic") method = () => guardedAtomic(target.atomic(), retry);
      else if (prop === "getMany") {
        method = (keys: Deno.KvKey[], ...rest: unknown[]) => {
          if (keys.length > KV_LIMITS.getManyKeys) {
            return Promise.reject(
              new KvLimitExceeded("getManyKeys", `getMany of ${keys.length} keys`),
            );
          }
          return retry(() => call([keys, ...rest]));
        };
      } else if (prop === "watch") {
        method = (keys: Deno.KvKey[], ...rest: unknown[]) => {
          if (keys.length > KV_LIMITS.watchedKeys) {
            throw new KvLimitExceeded("watchedKeys", `watch of ${keys.length} keys`);
          }
          return call([keys, ...rest]);
        };
      } else if (prop === "get" || prop === "set" || prop === "delete") {
        method = (...args: unknown[]) => retry(() => call(args));
      } else method = value.bind(target);
      methods.set(prop, method);
      return method;
    },
  });
}

/** An atomic op that counts its checks and commits through `retry`. */
function guardedAtomic(
  op: Deno.AtomicOperation,
  retry: <T>(op: () => Promise<T>) => Promise<T>,
): Deno.AtomicOperation {
  let checks = 0;
  const proxy: Deno.AtomicOperation = new Proxy(op, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "commit") {
        return () => {
          if (checks > KV_LIMITS.checks) {
            return Promise.reject(
              new KvLimitExceeded("checks", `an atomic commit with ${checks} checks`),
            );
          }
          return retry(() => value.call(target));
        };
      }
      // Chained calls (op.check(..).set(..)) must keep returning the guarded op.
      return (...args: unknown[]) => {
        if (prop === "check") checks += args.length;
        let out;
        try {
          out = value.apply(target, args);
        } catch (err) {
          throw asLimitError(err);
        }
        return out === target ? proxy : out;
      };
    },
  });
  return proxy;
}

/** One page of a list, newest first, and the cursor that continues it (null at the end). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

// KV cursors are base64url; anything else is refused before it reaches KV (which would throw).
const KV_CURSOR = /^[A-Za-z0-9+/_-]{1,1000}={0,2}$/;

export function badCursor(): BadRequest {
  return new BadRequest("cursor must be a next_cursor from an earlier page of this list", "cursor");
}

/** A client's cursor as KV takes it: undefined for the first page, else validated. */
export function kvCursor(cursor: string | null | undefined): string | undefined {
  if (!cursor) return undefined;
  if (!KV_CURSOR.test(cursor)) throw badCursor();
  return cursor;
}

/**
 * Runs a paged read: a cursor that is well-formed but was not given out for this list makes KV
 * throw on the first read; that is the client's mistake, a 400 naming `cursor`, never a 500.
 */
export async function pagedRead<R>(cursor: string | undefined, read: () => Promise<R>): Promise<R> {
  try {
    return await read();
  } catch (err) {
    if (cursor && err instanceof TypeError && /cursor/i.test(err.message)) throw badCursor();
    throw err;
  }
}

/**
 * Runs `work` holding the lease at `key` until `nowMs + leaseMs`. The lease is taken with a
 * check, so of racing callers one wins; the others (and any caller while it is held) get null
 * without running `work`. When `work` throws the lease is given back, so a retry may run at once.
 */
export async function withLease<T>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  nowMs: number,
  leaseMs: number,
  work: () => Promise<T>,
): Promise<T | null> {
  const held = await kv.get<number>(key);
  if (held.value !== null && held.value > nowMs) return null;
  const taken = await kv.atomic().check(held).set(key, nowMs + leaseMs).commit();
  if (!taken.ok) return null;
  try {
    return await work();
  } catch (err) {
    // A no-op once someone else has retaken it.
    await kv.atomic().check({ key, versionstamp: taken.versionstamp }).delete(key).commit();
    throw err;
  }
}

/**
 * Reads `anchor` and `keys` as of one moment, in getMany calls of at most 10 keys made in
 * parallel. Each call also reads `anchor`; if they saw different versions of it, all are read
 * again. So when every commit that writes one of `keys` also writes `anchor` (as group commits
 * do with the org's balance), the entries are as consistent as one read, and a commit checked
 * against the returned anchor lands only if none of them has changed since.
 */
export async function readAnchored<A>(
  kv: Deno.Kv,
  anchor: Deno.KvKey,
  keys: Deno.KvKey[],
): Promise<{ anchor: Deno.KvEntryMaybe<A>; entries: Deno.KvEntryMaybe<unknown>[] }> {
  const per = KV_LIMITS.getManyKeys - 1;
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < keys.length || i === 0; i += per) chunks.push(keys.slice(i, i + per));
  // One chunk needs one read; several are read again only while writes land between them.
  for (let tries = 0;; tries++) {
    if (tries === 50) throw new KvBusy();
    const read = await Promise.all(chunks.map((c) => kv.getMany([anchor, ...c])));
    const stamp = read[0][0].versionstamp;
    if (read.every((r) => r[0].versionstamp === stamp)) {
      const entries = read.flatMap((r) => r.slice(1));
      return { anchor: read[0][0] as Deno.KvEntryMaybe<A>, entries };
    }
  }
}

/** Reads any number of keys, in parallel getMany calls of at most 10 keys. */
export async function getManyChunked<T>(
  kv: Deno.Kv,
  keys: Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < keys.length; i += KV_LIMITS.getManyKeys) {
    chunks.push(keys.slice(i, i + KV_LIMITS.getManyKeys));
  }
  return (await Promise.all(chunks.map((c) => kv.getMany<T[]>(c)))).flat();
}

/** The KV handle was closed (shutdown, end of a test): background loops stop, nothing to log. */
export function isKvClosed(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

/**
 * A failure that passes: SQLite's lock held by another process on the same file (the statement
 * was rolled back, nothing written). Deno's KV Connect client retries network errors and 5xx
 * answers itself, without end (denokv remote/lib.rs), so those never reach the app as errors;
 * a KV server that stays away shows as a call that does not return (see docs/scale-out.md).
 */
export function isKvBusy(err: unknown): boolean {
  return err instanceof Error &&
    /database is locked|database table is locked|SQLITE_BUSY/i.test(err.message);
}

/** Still failing after every retry: the client may retry (503), nothing was written. */
export class KvBusy extends AppError {
  constructor() {
    super(503, "api_error", "service_unavailable", "The database is busy; retry shortly", null, {
      "Retry-After": "1",
    });
  }
}

/**
 * A KV server that has not answered within the deadline (it is restarting, or unreachable). The
 * call may still complete: a commit that timed out may land later, so callers that must know
 * (the group commit) read its effect before answering; the client may retry (503).
 */
export class KvUnavailable extends AppError {
  constructor(ms: number) {
    super(
      503,
      "api_error",
      "service_unavailable",
      `The database did not answer within ${ms / 1000} s; retry shortly`,
      null,
      { "Retry-After": "5" },
    );
  }
}

function withDeadline<T>(p: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KvUnavailable(ms)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs one KV read or commit, retrying with jittered exponential backoff (10 ms doubling, about
 * 5 s in all) while it fails transiently (isKvBusy), then throws KvBusy (a 503); a limit error
 * is thrown as KvLimitExceeded, any other error at once. Only for failures that wrote nothing:
 * `op` must build its atomic op anew each call, or commit one that threw.
 */
export async function retryTransient<T>(op: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await op();
    } catch (err) {
      if (!isKvBusy(err)) throw asLimitError(err);
      if (i >= tries - 1) throw new KvBusy();
      await new Promise((r) => setTimeout(r, 10 * 2 ** i * (0.5 + Math.random())));
    }
  }
}

/** The former name, kept for lib/jobs.ts (issue 26's module this round). */
export const retryBusy = retryTransient;
