/** Every provider adapter by id, and which of them the environment has keys for. */
import { falProvider } from "./fal.ts";
import { geminiProvider } from "./gemini.ts";
import { localProvider } from "./local.ts";
import { lumaProvider } from "./luma.ts";
import { replicateProvider } from "./replicate.ts";
import { runwayProvider } from "./runway.ts";
import type { ProviderAdapter, ProviderDeps, ProviderId } from "./types.ts";

export const ADAPTERS: Record<ProviderId, ProviderAdapter> = {
  local: localProvider,
  gemini: geminiProvider,
  fal: falProvider,
  replicate: replicateProvider,
  runway: runwayProvider,
  luma: lumaProvider,
};

/** The providers usable with this environment; "local" needs no key and is always there. */
export function configuredProviders(env: ProviderDeps["env"]): Set<ProviderId> {
  const ids = new Set<ProviderId>(["local"]);
  for (const adapter of Object.values(ADAPTERS)) {
    if (adapter.isConfigured(env)) ids.add(adapter.id);
  }
  return ids;
}
