import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../../lib/testing/server.ts";

const GITHUB = { GITHUB_CLIENT_ID: "cid", GITHUB_CLIENT_SECRET: "csecret" };

/** Every KV entry's key and value, as JSON: what a copy of the database would hold. */
export async function kvDump(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push(JSON.stringify([e.key, e.value], (_k, v) => typeof v === "bigint" ? String(v) : v));
  }
  return out;
}

async function kvBytes(server: TestServer): Promise<number> {
  return (await kvDump(server.services.kv)).reduce((n, s) => n + s.length, 0);
}

Deno.test("3,000 OAuth sign-in starts with a long next from one client grow KV by a small bound", async () => {
  const server = await startTestServer(GITHUB);
  try {
    const before = await kvBytes(server);
    const next = "/" + "a".repeat(1999);
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 300; batch++) {
      await Promise.all(Array.from({ length: 10 }, async () => {
        const res = await fetch(`${server.url}/auth/github?next=${next}`, { redirect: "manual" });
        await res.body?.cancel();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }));
    }
    const grown = await kvBytes(server) - before;
    // 30 starts are allowed per 15 minutes, each a few hundred bytes; the rest are 429.
    assert.ok(grown < 32_000, `KV grew by ${grown} bytes`);
    assert.equal(statuses.get(302), 30, JSON.stringify([...statuses]));
    assert.equal(statuses.get(429), 2970);
  } finally {
    await server.close();
  }
});

Deno.test("an over-long next is not kept: sign-in goes to the default page", async () => {
  const server = await startTestServer(GITHUB);
  try {
    const res = await fetch(`${server.url}/auth/github?next=/usage?${"x".repeat(600)}`, {
      redirect: "manual",
    });
    await res.body?.cancel();
    assert.equal(res.status, 302);
    const dump = (await kvDump(server.services.kv)).join("\n");
    assert.doesNotMatch(dump, /x{600}/);
    assert.match(dump, /\/playground/);
  } finally {
    await server.close();
  }
});
