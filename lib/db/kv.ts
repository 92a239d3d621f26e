import { BadRequest } from "../errors.ts";

/** Opens the one Deno KV database of the process. Key shapes live in the other modules of lib/db/. */
export async function openKv(path: string): Promise<Deno.Kv> {
  if (path !== ":memory:") {
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  }
  return await Deno.openKv(path);
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
