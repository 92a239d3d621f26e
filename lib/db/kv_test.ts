import assert from "node:assert/strict";
import { openKv, retryBusy } from "./kv.ts";
import { toApiError } from "../http/errors.ts";
import { BadRequest } from "../errors.ts";
import { listLedger } from "./ledger.ts";
import { listDeliveries } from "./webhooks.ts";
import { listGenerations } from "./generations.ts";

Deno.test("every paged list refuses a cursor it did not give out with a 400 naming cursor", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(["ledger", "org_1", "led_1"], { id: "led_1" });
    await kv.set(["ledger", "org_1", "led_2"], { id: "led_2" });
    const lists = [
      (cursor: string) => listLedger(kv, "org_1", { cursor, limit: 1 }),
      (cursor: string) => listDeliveries(kv, "org_1", { cursor }),
      (cursor: string) => listGenerations(kv, "org_1", { cursor }),
    ];
    for (const list of lists) {
      for (const cursor of ["!!!", "\u00ff\u00fe", "AAAAAAAAAAAAAAAAAAAAAAAAA", "x".repeat(2000)]) {
        await assert.rejects(list(cursor), (err: Error) => {
          assert.ok(err instanceof BadRequest, `${cursor}: ${err}`);
          assert.equal(err.param, "cursor");
          return true;
        });
      }
    }
    // A cursor the list gave out still works.
    const first = await listLedger(kv, "org_1", { limit: 1 });
    const second = await listLedger(kv, "org_1", { limit: 1, cursor: first.next_cursor! });
    assert.deepEqual(second.data.map((e) => e.id), ["led_1"]);
  } finally {
    kv.close();
  }
});

/** Three processes each add 1 to one counter `n` times with checked commits; their outcomes. */
async function contend(path: string, n: number, raw: boolean) {
  const code = `
    import { openKv } from ${JSON.stringify(new URL("./kv.ts", import.meta.url).href)};
    const kv = ${raw ? "await Deno.openKv" : "await openKv"}(${JSON.stringify(path)});
    let thrown = 0;
    await Promise.all([0, 1, 2, 3].map(async () => {
      for (let i = 0; i < ${n / 4};) {
        const e = await kv.get(["counter"]);
        try {
          const r = await kv.atomic().check(e).set(["counter"], (e.value ?? 0) + 1).commit();
          if (r.ok) i++;
          else await new Promise((r) => setTimeout(r, Math.random() * 5));
        } catch (err) {
          thrown++;
          if (!/database is locked/.test(String(err))) throw err;
        }
      }
    }));
    console.log(JSON.stringify({ thrown }));
    kv.close();`;
  const outs = await Promise.all([0, 1, 2].map(() =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", "--unstable-kv", code],
      stdout: "piped",
      stderr: "inherit",
    }).output()
  ));
  assert.ok(outs.every((o) => o.success));
  return outs.map((o) => JSON.parse(new TextDecoder().decode(o.stdout)).thrown as number);
}

Deno.test("commits from several processes on one KV file are retried while it is locked, never thrown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-kv-" });
  try {
    // The hazard is real: through a bare handle some commits throw "database is locked".
    const bare = await contend(`${dir}/bare.sqlite`, 120, true);
    assert.ok(bare.some((n) => n > 0), `bare handles threw ${bare}`);
    const path = `${dir}/kv.sqlite`;
    assert.deepEqual(await contend(path, 120, false), [0, 0, 0]);
    const kv = await openKv(path);
    assert.equal((await kv.get(["counter"])).value, 360, "every increment landed exactly once");
    kv.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a commit still locked after every retry is a 503 with Retry-After, not a 500", async () => {
  let calls = 0;
  const locked = () => {
    calls++;
    return Promise.reject(new TypeError("database is locked"));
  };
  const err = await retryBusy(locked, 3).catch((e) => e);
  assert.equal(calls, 3);
  const { status, headers } = toApiError(err);
  assert.equal(status, 503);
  assert.equal(headers.get("Retry-After"), "1");
  // Anything else is not retried.
  calls = 0;
  await assert.rejects(retryBusy(() => (calls++, Promise.reject(new Error("boom")))), /boom/);
  assert.equal(calls, 1);
});
