/**
 * Three real instances (`deno run -A main.ts`) on ONE KV server reached over KV Connect
 * (`DENO_KV_PATH=http://…`, `DENO_KV_ACCESS_TOKEN`), the way several instances share `denokv` or
 * Deno Deploy's KV (docs/scale-out.md); the server is tests/support/kv_connect.ts, which refuses
 * what denokv refuses. One org is hammered through all three with Idempotency-Keys, part of it
 * with a spend-limited key; one instance is SIGKILLed mid-run, and the KV server is stopped for a
 * second and started again (Deno's client waits it out). Then every generation has ended,
 * the org paid exactly for what completed, the ledger verifies, nothing answered 5xx, the key
 * limit held, and the KV server refused no request.
 */
import { callWithKey as call, pool } from "../support/api.ts";
import assert from "node:assert/strict";
import { makeTinyMp4 } from "../support/video.ts";
import { falStandIn } from "../support/fal_instant.ts";
import { ADMIN_TOKEN as ADMIN, freePort, spawnApp, waitUp } from "../support/app_process.ts";
import { startKvConnect } from "../support/kv_connect.ts";

const SUBMISSIONS = 120;
const WIDTH = 40;
const FAL_MODEL = "kwaivgi/kling-v2.5-turbo-pro";
const KEY_LIMIT = 300; // cents: the limited key can pay for a few of its submissions only

// deno-lint-ignore no-explicit-any
type Answer = { status: number; body: any };

Deno.test("three instances over KV Connect: every generation ends, money exact, no 5xx, key limit held, no write refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-kvc-multi-" });
  const kvServer = await startKvConnect({ path: `${dir}/kv-server.sqlite` });
  await makeTinyMp4(`${dir}/stand-in.mp4`);
  const stand = falStandIn(new Uint8Array(await Deno.readFile(`${dir}/stand-in.mp4`)));
  // The instances' logs, shown if the test fails; Deno's client logs each retry while the KV
  // server is away, so they are not passed through.
  const logs: string[] = [];
  const instances = [0, 1, 2].map(() => {
    const { url, child } = spawnApp(dir, freePort(), {
      DENO_KV_PATH: kvServer.url,
      DENO_KV_ACCESS_TOKEN: kvServer.token,
      FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
      FAL_QUEUE_URL: `${stand.base()}/fal`,
    }, "piped");
    for (const stream of [child.stdout, child.stderr]) {
      (async () => {
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          logs.push(chunk);
          if (logs.length > 200) logs.shift();
        }
      })();
    }
    return { url, child, alive: true };
  });
  try {
    await Promise.all(instances.map(waitUp));
    const admin = async (path: string, body: unknown) => {
      const r = await call(instances[0].url, "POST", path, ADMIN, body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    const INITIAL = 1_000_000;
    const org = await admin("/admin/v1/orgs", { name: "Hammered" });
    await admin(`/admin/v1/orgs/${org.id}/credits`, { amount_cents: INITIAL, reason: "test" });
    const keys: string[] = [];
    for (let k = 0; k < 4; k++) {
      keys.push((await admin(`/admin/v1/orgs/${org.id}/keys`, { name: `k${k}` })).key);
    }
    const limited = (await admin(`/admin/v1/orgs/${org.id}/keys`, {
      name: "limited",
      limit_cents: KEY_LIMIT,
      limit_reset: "never",
    })).key;

    // Every 4th submission on the limited key; every 10th fails upstream.
    const plan = Array.from({ length: SUBMISSIONS }, (_, i) => ({
      instance: i % 3,
      key: i % 4 === 1 ? limited : keys[i % 4],
      reject: i % 10 === 7,
    }));
    const answers: Answer[] = new Array(SUBMISSIONS);
    const fiveHundreds: string[] = [];
    let sent = 0;
    await pool(plan, WIDTH, async (p, i) => {
      if (++sent === Math.floor(SUBMISSIONS * 0.4)) {
        instances[2].child.kill("SIGKILL"); // mid-run, no shutdown
        instances[2].alive = false;
      }
      if (sent === Math.floor(SUBMISSIONS * 0.6)) {
        // The KV server restarts: calls in flight meanwhile wait for it, nothing is lost.
        await kvServer.stop();
        setTimeout(() => kvServer.start(), 1000);
      }
      const body = {
        model: FAL_MODEL,
        prompt: `${p.reject ? "reject" : "a lighthouse"} #${i}`,
        duration: 5,
        webhook_url: `${stand.base()}/hook`,
      };
      // A load balancer: the next live instance, and a retry there of a request cut off by the
      // kill (the Idempotency-Key makes that safe).
      for (let hop = 0;; hop++) {
        const inst = instances[(p.instance + hop) % 3];
        if (!inst.alive) continue;
        try {
          const r = await call(inst.url, "POST", "/v1/video/generations", p.key, body, `s-${i}`);
          if (r.status >= 500) fiveHundreds.push(`${i}: ${r.status} ${JSON.stringify(r.body)}`);
          answers[i] = r;
          return;
        } catch (err) {
          if (inst.alive || hop > 3) throw err;
        }
      }
    });
    await instances[2].child.status;
    assert.deepEqual(fiveHundreds, [], "no 5xx");
    for (const [i, a] of answers.entries()) {
      if (a.status === 200) continue;
      assert.equal(a.status, 402, `${i}: ${JSON.stringify(a.body)}`);
      assert.equal(plan[i].key, limited, `only the limited key is refused (${i})`);
      assert.equal(a.body.error.code, "key_limit_exceeded");
    }
    const ids = answers.flatMap((a) => a.status === 200 ? [a.body.id as string] : []);
    assert.ok(answers.some((a) => a.status === 402), "the key limit was reached");

    // Every accepted generation ends (work the dead instance held is taken over).
    const live = instances.filter((i) => i.alive);
    const deadline = Date.now() + 45_000;
    while (ids.some((id) => !stand.deliveries.has(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(ids.filter((id) => !stand.deliveries.has(id)), [], "every generation ended");

    let paid = 0;
    let limitedPaid = 0;
    await pool(ids, 8, async (id, n) => {
      const g = await call(live[n % 2].url, "GET", `/v1/video/generations/${id}`, keys[0]);
      assert.equal(g.status, 200, JSON.stringify(g.body));
      assert.ok(["completed", "failed"].includes(g.body.status), `${id} ${g.body.status}`);
      if (g.body.status === "completed") paid += g.body.cost_cents;
    });
    const limitedKey = await call(live[0].url, "GET", "/v1/key", limited);
    limitedPaid = limitedKey.body.data.spent_cents;
    assert.ok(limitedPaid <= KEY_LIMIT, `the limited key spent ${limitedPaid} of ${KEY_LIMIT}`);
    const usage = await call(live[1].url, "GET", "/v1/usage", keys[0]);
    assert.equal(usage.body.credit_balance, INITIAL - paid, "the org paid for what completed");
    const verify = await call(live[0].url, "GET", "/admin/v1/ledger/verify", ADMIN);
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
    assert.deepEqual(kvServer.refused, [], "the KV server refused nothing");
    assert.ok(kvServer.stats.writes > SUBMISSIONS / 25, "writes went through the KV server");
  } catch (err) {
    console.error(logs.join(""));
    throw err;
  } finally {
    for (const inst of instances) {
      try {
        inst.child.kill("SIGKILL");
      } catch { /* already gone */ }
      await inst.child.status;
    }
    await stand.close();
    await kvServer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
