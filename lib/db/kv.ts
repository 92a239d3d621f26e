import { AppError, BadRequest } from "../errors.ts";

/**
 * Opens the one Deno KV database of the process. Key shapes live in the other modules of lib/db/.
 * Commits that find the file locked by another process are retried (see withBusyRetry).
 */
export async function openKv(path: string | undefined): Promise<Deno.Kv> {
  // Undefined: the platform's own KV (Deno Deploy).
  const remote = path === undefined || /^https?:\/\//.test(path);
  if (path !== ":memory:" && !remote) {
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  }
  return withBusyRetry(await Deno.openKv(path));
}

/**
 * `kv` with every commit (and plain set/delete) retried while SQLite reports the database locked.
 * Several processes on one KV file get that error from checked commits (a read transaction cannot
 * become a write while another process writes); surfaced, it was a 500 or a claim whose follow-up
 * write never landed. A commit that threw wrote nothing, so committing the same op again is safe.
 */
export function withBusyRetry(kv: Deno.Kv): Deno.Kv {
  // Methods are bound once: the poll path calls getMany on every request.
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(kv, {
    get(target, prop) {
      if (methods.has(prop)) return methods.get(prop);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      let method;
      if (prop === "atomic") method = () => retryingCommit(target.atomic());
      else if (prop === "set" || prop === "delete") {
        method = (...args: unknown[]) => retryBusy(() => value.apply(target, args));
      } else method = value.bind(target);
      methods.set(prop, method);
      return method;
    },
  });
}

function retryingCommit(op: Deno.AtomicOperation): Deno.AtomicOperation {
  const proxy: Deno.AtomicOperation = new Proxy(op, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "commit") return () => retryBusy(() => value.call(target));
      // Chained calls (op.check(..).set(..)) must keep returning the retrying op.
      return (...args: unknown[]) => {
        const out = value.apply(target, args);
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

/** The KV handle was closed (shutdown, end of a test): background loops stop, nothing to log. */
export function isKvClosed(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

/** Several processes on one SQLite file: a writer briefly holds the lock the others wait on. */
export function isKvBusy(err: unknown): boolean {
  return err instanceof Error && /database is locked|database table is locked|SQLITE_BUSY/i.test(
    err.message,
  );
}

/** Still locked after every retry: the client may retry (503), nothing was written. */
export class KvBusy extends AppError {
  constructor() {
    super(503, "api_error", "service_unavailable", "The database is busy; retry shortly", null, {
      "Retry-After": "1",
    });
  }
}

/**
 * Runs one KV read or commit, retrying with jittered exponential backoff (10 ms doubling, about
 * 5 s in all) while the database is locked by another process, then throws KvBusy (a 503);
 * any other error is thrown at once.
 * `op` must build its atomic op anew each call: a commit that threw wrote nothing.
 */
export async function retryBusy<T>(op: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 0;; i++) {
    try {
      return await op();
    } catch (err) {
      if (!isKvBusy(err)) throw err;
      if (i >= tries - 1) throw new KvBusy();
      await new Promise((r) => setTimeout(r, 10 * 2 ** i * (0.5 + Math.random())));
    }
  }
}
