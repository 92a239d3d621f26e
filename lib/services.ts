import type { Config } from "./config.ts";
import { openKv } from "./db/kv.ts";
import { jsonLogger, type Logger } from "./http/log.ts";

/** Everything with an effect that request handlers and workers use, built once per process. */
export interface Services {
  config: Config;
  kv: Deno.Kv;
  log: Logger;
  now: () => number;
  fetch: typeof fetch;
}

export async function createServices(
  config: Config,
  overrides: Partial<Omit<Services, "config">> = {},
): Promise<Services> {
  return {
    config,
    kv: overrides.kv ?? await openKv(config.DENO_KV_PATH),
    log: overrides.log ?? jsonLogger(),
    now: overrides.now ?? Date.now,
    fetch: overrides.fetch ?? fetch,
  };
}
