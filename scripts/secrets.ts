/**
 * `deno task secrets reseal`: seals every webhook signing secret still stored in clear (from
 * before sealing) or under a former SECRET_KEY (listed in SECRET_KEY_PREVIOUS) with the current
 * SECRET_KEY. Safe to run at any time and more than once; see docs/security.md for rotation.
 */
import { loadConfig } from "../lib/config.ts";
import { openKv } from "../lib/db/kv.ts";
import { resealWebhookSecrets } from "../lib/db/webhooks.ts";
import { configSecretBox } from "../lib/secret_box.ts";

if (Deno.args[0] !== "reseal") {
  console.error("usage: deno task secrets reseal");
  Deno.exit(2);
}
const config = await loadConfig();
const kv = await openKv(config.DENO_KV_PATH);
try {
  const changed = await resealWebhookSecrets(kv, configSecretBox(config));
  console.log(`resealed ${changed} record(s)`);
} finally {
  kv.close();
}
