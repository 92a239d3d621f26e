/**
 * Key shapes of the video retention sweep (lib/storage/retention.ts). KV records past their own
 * expiry have their own sweep (lib/db/expiry.ts).
 *
 *   ["retention_lease"]              -> lease expiry (withLease): one sweep at a time
 *   ["retention_cursor", "videos"]   -> the last generation the video walk settled
 */
export const RETENTION_LEASE_KEY: Deno.KvKey = ["retention_lease"];
export const retentionCursorKey = (kind: string): Deno.KvKey => ["retention_cursor", kind];
