import type { VideoBackend } from "../storage/types.ts";

/** How long each dependency gets to answer before the instance counts as not ready. */
export const READY_TIMEOUT_MS = 2000;

export type CheckOutcome = "ok" | "timeout" | "error";

export interface Readiness {
  ready: boolean;
  checks: { kv: CheckOutcome; video_store: CheckOutcome };
}

// Looked up, never found: a read both backends answer cheaply (a missing object is null).
const PROBE_ID = "gen_readiness_probe";

async function within(ms: number, probe: () => Promise<unknown>): Promise<CheckOutcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<CheckOutcome>((r) => timer = setTimeout(() => r("timeout"), ms));
  try {
    return await Promise.race([probe().then(() => "ok" as const, () => "error" as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether this instance can do its work now: KV and the video store both answer in time. */
export async function checkReadiness(
  deps: { kv: Deno.Kv; store: Pick<VideoBackend, "size"> },
  timeoutMs = READY_TIMEOUT_MS,
): Promise<Readiness> {
  const [kv, video_store] = await Promise.all([
    within(timeoutMs, () => deps.kv.get(["readyz"])),
    within(timeoutMs, () => deps.store.size(PROBE_ID)),
  ]);
  return { ready: kv === "ok" && video_store === "ok", checks: { kv, video_store } };
}
