import assert from "node:assert/strict";
import { startKvConnect } from "./kv_connect.ts";

/** Deno's own KV Connect client (the one the app uses with DENO_KV_PATH=http://…). */
async function remote(url: string, token: string): Promise<Deno.Kv> {
  Deno.env.set("DENO_KV_ACCESS_TOKEN", token);
  return await Deno.openKv(url);
}

Deno.test("Deno's KV Connect client reads, writes, sums, checks and watches through the stand-in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-kvc-" });
  const server = await startKvConnect({ path: `${dir}/kv.sqlite` });
  const kv = await remote(server.url, server.token);
  try {
    const set = await kv.set(["a", 1], { hello: "world", n: 1n, at: new Date(0) });
    assert.ok(set.ok);
    const got = await kv.get(["a", 1]);
    assert.deepEqual(got.value, { hello: "world", n: 1n, at: new Date(0) });
    assert.equal(got.versionstamp, set.versionstamp);
    await kv.set(["a", 2], new Uint8Array([1, 2, 3]));
    await kv.atomic().sum(["n"], 5n).sum(["n"], 2n).commit();
    const many = await kv.getMany([["a", 1], ["a", 2], ["n"], ["missing"]]);
    assert.deepEqual(many[1].value, new Uint8Array([1, 2, 3]));
    assert.equal((many[2].value as Deno.KvU64).value, 7n);
    assert.equal(many[3].versionstamp, null);
    const listed = [];
    for await (const e of kv.list({ prefix: ["a"] }, { reverse: true })) listed.push(e.key);
    assert.deepEqual(listed, [["a", 2], ["a", 1]]);
    // A check against a moved versionstamp fails; against the current one it lands.
    const stale = await kv.atomic().check(got).set(["a", 1], "x").commit();
    assert.ok(stale.ok);
    assert.equal((await kv.atomic().check(got).set(["a", 1], "y").commit()).ok, false);
    assert.equal((await kv.get(["a", 1])).value, "x");
    // Watch sees a write made through another connection.
    const other = await remote(server.url, server.token);
    const reader = kv.watch([["w"]]).getReader();
    assert.equal((await reader.read()).value![0].value, null);
    await other.set(["w"], "changed");
    for (const deadline = Date.now() + 10_000;;) {
      const { value } = await reader.read();
      if (value![0].value === "changed") break;
      assert.ok(Date.now() < deadline, "the watch never saw the write");
    }
    await reader.cancel();
    other.close();
    assert.deepEqual(server.refused, []);
  } finally {
    kv.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the stand-in refuses what denokv refuses, and counts it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-kvc-" });
  const server = await startKvConnect({ path: `${dir}/kv.sqlite` });
  const kv = await remote(server.url, server.token);
  try {
    // Deno's client allows 100 checks; denokv 10.
    const a = kv.atomic();
    for (let i = 0; i < 11; i++) a.check({ key: ["c", i], versionstamp: null });
    await assert.rejects(a.set(["c"], 1).commit());
    assert.equal(server.refused.length, 1);
    assert.match(server.refused[0], /Too many checks/);
    assert.equal((await kv.get(["c"])).versionstamp, null);
  } finally {
    kv.close();
    await server.close();
  }
  // A wrong access token is refused at the metadata exchange.
  const again = await startKvConnect({ path: `${dir}/kv.sqlite` });
  try {
    await assert.rejects(remote(again.url, "not-the-token-at-all"), /401 Unauthorized/);
  } finally {
    await again.close();
    await Deno.remove(dir, { recursive: true });
  }
});
