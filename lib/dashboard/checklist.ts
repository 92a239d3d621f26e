import type { Services } from "../services.ts";
import { getBalance } from "../db/ledger.ts";
import { getUsageTotals } from "../db/usage.ts";
import { listApiKeys } from "../db/apikeys.ts";
import { listEndpoints } from "../db/webhooks.ts";
import { listGenerations } from "../db/generations.ts";

/** The first-run steps, each ticked from what the organization really has. */
export interface GettingStarted {
  credits: boolean;
  generated: boolean;
  key: boolean;
  webhook: boolean;
}

export async function gettingStarted(services: Services, orgId: string): Promise<GettingStarted> {
  const { kv } = services;
  const [balance, totals, keys, endpoints, gens] = await Promise.all([
    getBalance(kv, orgId),
    getUsageTotals(kv, orgId),
    listApiKeys(kv, orgId),
    listEndpoints(kv, orgId),
    listGenerations(kv, orgId, { limit: 1 }),
  ]);
  return {
    // Credits were added if there is a balance now or any was spent.
    credits: balance > 0 || totals.total_cost_cents > 0,
    generated: gens.data.length > 0,
    key: keys.length > 0,
    webhook: endpoints.length > 0,
  };
}

export const isDone = (g: GettingStarted) => g.credits && g.generated && g.key && g.webhook;
