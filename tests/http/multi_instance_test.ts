/**
 * Three real instances (`deno run -A main.ts`) on ONE KV file and ONE data dir, as several
 * instances behind a load balancer share one KV and one store (docs/scale-out.md). Submissions
 * for three orgs go round-robin to the instances, through the local model and a stand-in of
 * fal.ai's queue API; some fail upstream, some are cancelled; one instance is SIGKILLed mid-run
 * and not restarted. Then every generation has ended, each org paid exactly for what completed,
 * the ledger verifies, each event was delivered under one webhook-id, the rate limit held across
 * the instances, and any instance serves any output_url.
 */
import { callWithKey as call, pool } from "../support/api.ts";
import assert from "node:assert/strict";
import { makeTinyMp4 } from "../support/video.ts";
import { falStandIn } from "../support/fal_instant.ts";
import { ADMIN_TOKEN as ADMIN, freePort, spawnApp, waitUp } from "../support/app_process.ts";

const LIMIT = 60; // RATE_LIMIT_PER_MINUTE
const SUBMISSIONS = 300;
const KEYS_PER_ORG = 10; // so no main-flow key comes near LIMIT
const FAL_MODEL = "kwaivgi/kling-v2.5-turbo-pro";

interface Instance {
  url: string;
  child: Deno.ChildProcess;
  alive: boolean;
  /** Its job runner's lease owner id, from its start-up log line. */
  runner: Promise<string>;
}

function startInstance(dir: string, falBase: string): Instance {
  // A port free right now (the OS picks it), so instances never collide.
  const port = freePort();
  const { url, child } = spawnApp(dir, port, {
    RATE_LIMIT_PER_MINUTE: String(LIMIT),
    FAL_KEY: "fal-key-id:fal-key-secret-0123456789",
    FAL_QUEUE_URL: falBase,
  }, "piped");
  // PV_MULTI_LOGS=dir keeps each instance's log lines there (for a failing run).
  const logs = Deno.env.get("PV_MULTI_LOGS");
  const file = logs ? Deno.openSync(`${logs}/${port}.log`, { create: true, append: true }) : null;
  const runner = Promise.withResolvers<string>();
  (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        const m = line.match(/job runner (\w+) started/);
        if (m) runner.resolve(m[1]);
        file?.writeSync(new TextEncoder().encode(line + "\n"));
      }
    }
    file?.close();
  })();
  child.stderr.cancel();
  return { url, child, alive: true, runner: runner.promise };
}

Deno.test("three instances on one KV: every generation ends, money exact, one webhook-id per event, shared limits, any instance serves any video", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-multi-" });
  await makeTinyMp4(`${dir}/stand-in.mp4`);
  const stand = falStandIn(new Uint8Array(await Deno.readFile(`${dir}/stand-in.mp4`)));
  const instances = [0, 1, 2].map(() => startInstance(dir, `${stand.base()}/fal`));
  try {
    await Promise.all(instances.map(waitUp));
    const live = () => instances.filter((i) => i.alive);
    /**
     * A SIGKILL at whatever moment the run reaches: paid submits, downloads and renders the
     * instance held are leases that lapse within WORKER_LEASE_MS, then a live instance takes
     * them over.
     */
    const kill = (inst: Instance) => {
      inst.child.kill("SIGKILL");
      inst.alive = false;
    };
    /** What a load balancer does: the next live instance, and a retry there if one was cut off. */
    const viaBalancer = async <T>(start: number, send: (url: string) => Promise<T>): Promise<T> => {
      for (let hop = 0;; hop++) {
        const inst = instances[(start + hop) % 3];
        if (!inst.alive) continue;
        try {
          return await send(inst.url);
        } catch (err) {
          if (inst.alive || hop > 3) throw err;
        }
      }
    };
    const admin = async (path: string, body: unknown) => {
      const r = await call(instances[0].url, "POST", path, ADMIN, body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    const INITIAL = 10_000_000;
    const orgs: { id: string; keys: string[] }[] = [];
    for (const name of ["North", "South", "West", "Limits"]) {
      const org = await admin("/admin/v1/orgs", { name });
      const keys = [];
      for (let k = 0; k < KEYS_PER_ORG; k++) {
        keys.push((await admin(`/admin/v1/orgs/${org.id}/keys`, { name: `k${k}` })).key);
      }
      await admin(`/admin/v1/orgs/${org.id}/credits`, { amount_cents: INITIAL, reason: "test" });
      orgs.push({ id: org.id, keys });
    }
    const limitsKey = orgs.pop()!.keys[0];

    // The rate limit holds across instances: a client hammering all three with one key gets
    // about LIMIT through in the minute, not three times as many.
    for (const inst of instances) await call(inst.url, "GET", "/v1/usage", orgs[0].keys[0]);
    await new Promise((r) => setTimeout(r, 1_200)); // each has synced once: they know of each other
    let admitted = 0;
    for (let burst = 0; burst < 6; burst++) {
      const answers = await Promise.all(
        Array.from(
          { length: LIMIT / 2 },
          (_, i) => call(instances[i % 3].url, "GET", "/v1/usage", limitsKey),
        ),
      );
      admitted += answers.filter((a) => a.status === 200).length;
      assert.ok(answers.every((a) => a.status === 200 || a.status === 429));
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(admitted <= LIMIT * 1.1 + LIMIT / 60 + 1, `${admitted} admitted of ${LIMIT}`);
    assert.ok(admitted >= LIMIT * 0.8, `only ${admitted} admitted of ${LIMIT}`);

    // Submissions: round-robin over instances; org by position; every 10th on the local model.
    const plan = Array.from({ length: SUBMISSIONS }, (_, i) => ({
      instance: i % 3,
      org: Math.floor(i / 3) % 3,
      key: orgs[Math.floor(i / 3) % 3].keys[Math.floor(i / 9) % KEYS_PER_ORG],
      local: i % 10 === 0, // renders share the machine's CPU: a tenth is plenty
      reject: i % 10 === 7, // fal: fails upstream (~10%)
      cancel: i % 20 === 3, // fal: cancelled right after (~5%)
    }));
    const ids: string[] = new Array(SUBMISSIONS);
    let sent = 0;
    await pool(plan, 12, async (p, i) => {
      if (++sent === Math.floor(SUBMISSIONS * 0.4)) {
        // Mid-run, no shutdown: its leases, half-done renders and requests are simply gone.
        kill(instances[2]);
      }
      // The load balancer sends the dead instance's share to the next live one, and retries a
      // request cut off by the kill there: the Idempotency-Key makes that safe.
      const body = {
        model: p.local ? "local/preview" : FAL_MODEL,
        prompt: `${p.reject ? "reject" : "a lighthouse"} #${i}`,
        duration: p.local ? 1 : 5,
        ...(p.local ? { resolution: "360p" } : {}),
        webhook_url: `${stand.base()}/hook`,
      };
      const r = await viaBalancer(
        p.instance,
        (url) => call(url, "POST", "/v1/video/generations", p.key, body, `sub-${i}`),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      ids[i] = r.body.id;
      if (p.cancel) {
        const c = await viaBalancer(
          p.instance + 1,
          (url) => call(url, "POST", `/v1/video/generations/${r.body.id}/cancel`, p.key),
        );
        // 409: a first try cut off by the kill had cancelled it already.
        assert.ok(c.status === 200 || c.status === 409, JSON.stringify(c.body));
      }
    });
    await instances[2].child.status;

    // Every generation ends: its event arrives (work the dead instance held is taken over).
    const deadline = Date.now() + 75_000;
    while (ids.some((id) => !stand.deliveries.has(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const missing = ids.filter((id) => !stand.deliveries.has(id));
    if (missing.length) {
      const seen = await Promise.all(
        missing.slice(0, 20).map(async (id) => {
          const p = plan[ids.indexOf(id)];
          const g = (await call(live()[0].url, "GET", `/v1/video/generations/${id}`, p.key)).body;
          return `${id} ${p.local ? "local" : "fal"} ${g.status}`;
        }),
      );
      console.log(seen.join("\n"));
    }
    assert.deepEqual(missing, [], `${missing.length} generations without an event`);

    const final = new Map<
      string,
      { status: string; cost_cents: number | null; output_url: string | null }
    >();
    await pool(plan, 8, async (p, i) => {
      // Any key of the org reads its generations; a client waits out a 429's Retry-After.
      const key = orgs[p.org].keys[i % KEYS_PER_ORG];
      for (let tries = 0;; tries++) {
        const r = await call(live()[i % 2].url, "GET", `/v1/video/generations/${ids[i]}`, key);
        if (r.status === 429 && tries < 5) {
          await new Promise((ok) => setTimeout(ok, r.body.data.retry_after * 1000));
          continue;
        }
        assert.equal(r.status, 200, JSON.stringify(r.body));
        final.set(ids[i], r.body);
        break;
      }
    });
    const statuses = [...final.values()].map((g) => g.status);
    const count = (s: string) => statuses.filter((x) => x === s).length;
    assert.equal(
      count("completed") + count("failed") + count("cancelled"),
      SUBMISSIONS,
      "all ended",
    );
    assert.equal(count("cancelled"), plan.filter((p) => p.cancel).length);
    assert.equal(count("failed"), plan.filter((p) => p.reject && !p.cancel).length);

    // Money: each org paid exactly for its completed generations; the ledger verifies.
    for (const [o, org] of orgs.entries()) {
      const paid = plan.map((p, i) => ({ p, g: final.get(ids[i])! }))
        .filter(({ p, g }) => p.org === o && g.status === "completed")
        .reduce((sum, { g }) => sum + g.cost_cents!, 0);
      const usage = await call(live()[o % 2].url, "GET", "/v1/usage", org.keys[9]);
      assert.equal(usage.body.credit_balance, INITIAL - paid, `org ${o}'s balance`);
    }
    const verify = await call(instances[1].url, "GET", "/admin/v1/ledger/verify", ADMIN);
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));

    // One delivery per event: a redelivery after a crash reuses its webhook-id.
    const webhookIds = ids.map((id) => new Set(stand.deliveries.get(id)));
    assert.deepEqual(webhookIds.filter((s) => s.size !== 1).length, 0, "one webhook-id each");
    assert.equal(new Set(webhookIds.flatMap((s) => [...s])).size, SUBMISSIONS, "all distinct");

    // Any instance serves any output_url (one data dir, one secret).
    const done = [...final.values()].filter((g) => g.status === "completed").slice(0, 12);
    for (const g of done) {
      for (const inst of live()) {
        const u = new URL(g.output_url!);
        const res = await fetch(inst.url + u.pathname + u.search);
        assert.equal(res.status, 200, `${inst.url} serving ${u.pathname}`);
        assert.ok((await res.arrayBuffer()).byteLength > 0);
      }
    }
  } finally {
    for (const inst of instances) {
      try {
        inst.child.kill("SIGKILL");
      } catch { /* already gone */ }
      await inst.child.status;
    }
    await stand.close();
    if (Deno.env.get("PV_MULTI_LOGS")) console.log(`kept ${dir}`);
    else await Deno.remove(dir, { recursive: true });
  }
});
