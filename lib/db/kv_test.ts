import assert from "node:assert/strict";
import {
  guardKv,
  KV_LIMITS,
  KvLimitExceeded,
  KvUnavailable,
  openKv,
  readAnchored,
  retryTransient,
} from "./kv.ts";
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
  const err = await retryTransient(locked, 3).catch((e) => e);
  assert.equal(calls, 3);
  const { status, headers } = toApiError(err);
  assert.equal(status, 503);
  assert.equal(headers.get("Retry-After"), "1");
  // Anything else is not retried.
  calls = 0;
  await assert.rejects(retryTransient(() => (calls++, Promise.reject(new Error("boom")))), /boom/);
  assert.equal(calls, 1);
});

/** Asserts `call` is refused with KvLimitExceeded naming `limit`, and the message says it. */
async function refused(limit: keyof typeof KV_LIMITS, call: () => unknown) {
  await assert.rejects(async () => await call(), (err: Error) => {
    assert.ok(err instanceof KvLimitExceeded, String(err));
    assert.equal(err.limit, limit);
    assert.match(err.message, new RegExp(`KV limit ${limit} \\(${KV_LIMITS[limit]},`));
    return true;
  });
}

Deno.test("the app's KV handle refuses what denokv refuses, on SQLite too, naming the limit", async () => {
  const kv = await openKv(":memory:");
  const bare = await Deno.openKv(":memory:");
  try {
    const checked = (db: Deno.Kv, n: number) => {
      const a = db.atomic();
      for (let i = 0; i < n; i++) a.check({ key: ["c", i], versionstamp: null });
      return a.set(["after", n], 1).commit();
    };
    // SQLite alone takes 11 checks; denokv would refuse them.
    assert.equal((await checked(bare, 11)).ok, true);
    await refused("checks", () => checked(kv, 11));
    assert.equal((await kv.get(["after", 11])).versionstamp, null, "nothing written");
    await refused("checks", () =>
      kv.atomic().check(...Array.from({ length: 11 }, (_, i) => ({
        key: ["c", i],
        versionstamp: null,
      }))).commit());
    assert.equal((await checked(kv, 10)).ok, true, "10 checks are fine");

    const keys = Array.from({ length: 11 }, (_, i) => ["k", i]);
    await refused("getManyKeys", () => kv.getMany(keys));
    assert.equal((await kv.getMany(keys.slice(0, 10))).length, 10);
    assert.throws(() => kv.watch(keys), KvLimitExceeded);

    await refused("valueBytes", () => kv.set(["v"], "x".repeat(70 * 1024)));
    await refused("valueBytes", () => kv.atomic().set(["v"], new Uint8Array(70 * 1024)).commit());
    await refused("keyBytes", () => kv.set(["k", "x".repeat(3000)], 1));
    await refused("mutations", () => {
      const a = kv.atomic();
      for (let i = 0; i < 1001; i++) a.set(["m", i], i);
      return a.commit();
    });
    await refused("mutationBytes", () => {
      const a = kv.atomic();
      for (let i = 0; i < 14; i++) a.set(["m", i], "x".repeat(60_000));
      return a.commit();
    });
    assert.equal((await kv.get(["m", 0])).versionstamp, null, "nothing written");
  } finally {
    kv.close();
    bare.close();
  }
});

Deno.test("a KV server that does not answer is a 503 with Retry-After once the deadline passes", async () => {
  const real = await Deno.openKv(":memory:");
  try {
    // Deno's KV Connect client retries an unreachable server without end: calls never return.
    const never = () => new Promise<never>(() => {});
    const away = new Proxy(real, {
      get(target, prop) {
        if (prop === "get" || prop === "getMany") return never;
        if (prop === "atomic") {
          return () => {
            const op = { set: () => op, commit: never };
            return op;
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const kv = guardKv(away, { deadlineMs: 50 });
    for (const call of [() => kv.get(["a"]), () => kv.atomic().set(["a"], 1).commit()]) {
      const err = await call().catch((e) => e);
      assert.ok(err instanceof KvUnavailable, String(err));
      const { status, headers } = toApiError(err);
      assert.equal(status, 503);
      assert.equal(headers.get("Retry-After"), "5");
    }
  } finally {
    real.close();
  }
});

Deno.test("readAnchored: chunks that saw different versions of the anchor are read again", async () => {
  const kv = await openKv(":memory:");
  try {
    const keys = Array.from({ length: 25 }, (_, i) => ["k", i]);
    for (const k of keys) await kv.set(k, 0);
    await kv.set(["anchor"], 0);
    // A writer that moves the anchor and every key together, between the chunks' reads.
    let moves = 2;
    // The other chunks of a round are read once the first chunk's read (and write) is done.
    let firstDone = Promise.resolve();
    const racing = new Proxy(kv, {
      get(target, prop) {
        if (prop === "getMany") {
          return async (ks: Deno.KvKey[]) => {
            if (ks[1]?.[1] !== 0) {
              await firstDone;
              return target.getMany(ks);
            }
            const done = Promise.withResolvers<void>();
            firstDone = done.promise;
            const out = await target.getMany(ks);
            if (moves > 0) {
              moves--;
              const a = target.atomic().set(["anchor"], moves);
              for (const k of keys) a.set(k, moves);
              await a.commit();
            }
            done.resolve();
            return out;
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const read = await readAnchored<number>(racing, ["anchor"], keys);
    assert.equal(read.entries.length, 25);
    // However the writes interleaved, what came back is one moment's view.
    assert.ok(read.entries.every((e) => e.value === read.anchor.value), JSON.stringify(read));
    assert.equal(moves, 0, "the writer did race the reads");
  } finally {
    kv.close();
  }
});
