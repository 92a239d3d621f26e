/**
 * Two real instances (`deno run -A main.ts`) on one KV file: a key revoked by a third handle (an
 * operator's, or a third instance's) is refused by both within a second, although SQLite delivers
 * no watch events across processes: the key cache's one-second lifetime is what holds there.
 */
import assert from "node:assert/strict";
import { adminOrg, freePort, startApp, stopApp } from "../support/app_process.ts";
import { openKv } from "../../lib/db/kv.ts";
import { listApiKeys, revokeApiKey } from "../../lib/db/apikeys.ts";

Deno.test("a key revoked elsewhere is refused by every instance within a second", async () => {
  const dir = await Deno.makeTempDir();
  const apps = [];
  try {
    // A limit the polls below never reach.
    const env = { RATE_LIMIT_PER_MINUTE: "100000000" };
    apps.push(await startApp(dir, freePort(), env), await startApp(dir, freePort(), env));
    const { orgId, api } = await adminOrg(apps[0].url, 100);
    const call = async (url: string) => {
      const res = await fetch(`${url}/v1/key`, { headers: api });
      await res.body?.cancel();
      return res.status;
    };
    // Both instances have just read the key (and cached it).
    for (const app of apps) {
      for (let i = 0; i < 2; i++) assert.notEqual(await call(app.url), 401);
    }

    const kv = await openKv(`${dir}/kv.sqlite`);
    let revokedAt;
    try {
      const [key] = await listApiKeys(kv, orgId);
      await revokeApiKey(kv, orgId, key.id);
      revokedAt = performance.now();
    } finally {
      kv.close();
    }
    for (const app of apps) {
      for (;;) {
        const sentAt = performance.now();
        const status = await call(app.url);
        if (status === 401) break;
        // A 429 (the shared rate limit's cold start) also means the key was accepted.
        assert.ok(status === 200 || status === 429, `status ${status}`);
        assert.ok(
          sentAt - revokedAt < 1000,
          `${app.url} accepted the key a second after revocation`,
        );
      }
    }
  } finally {
    for (const app of apps) await stopApp(app);
    await Deno.remove(dir, { recursive: true });
  }
});
