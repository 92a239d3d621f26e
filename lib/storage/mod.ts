/**
 * Finished videos (DESIGN.md, "Storage and URLs"): stored by generation id in a backend (local
 * disk or an S3-compatible bucket) and served at signed, expiring URLs. One module per job:
 * containers, the local backend, the configured backend, storing, downloads behind the SSRF
 * guard, signed URLs and Range serving.
 */
export { StorageError, type VideoBackend } from "./types.ts";
export * from "./containers.ts";
export * from "./local.ts";
export * from "./backend.ts";
export * from "./store.ts";
export * from "./download.ts";
export * from "./signed_urls.ts";
export * from "./serve.ts";
