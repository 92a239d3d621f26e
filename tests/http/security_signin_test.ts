import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { kvDump } from "../support/kv.ts";

const GITHUB = { GITHUB_CLIENT_ID: "cid", GITHUB_CLIENT_SECRET: "csecret" };

async function kvBytes(server: TestServer): Promise<number> {
  return (await kvDump(server.services.kv)).reduce((n, s) => n + s.length, 0);
}

Deno.test("3,000 OAuth sign-in starts with a long next from one client grow KV by a small bound", async () => {
  const server = await startTestServer(GITHUB, { now: () => Date.UTC(2026, 10, 27, 12, 1) });
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
    const state = (await kvDump(server.services.kv)).find((e) => e.includes("oauth_states"))!;
    assert.ok(state.length < 600, `state record is ${state.length} chars`);
  } finally {
    await server.close();
  }
});

function requestLink(server: TestServer, email: string, client: string) {
  return fetch(server.url + "/login", {
    method: "POST",
    headers: { "Sec-Fetch-Site": "same-origin", "X-Forwarded-For": client },
    body: new URLSearchParams({ email }),
  });
}

/** The links "mailed" to an address (without SMTP in development they are logged). */
function linksTo(server: TestServer, email: string): string[] {
  return server.logs.filter((l) =>
    l.msg === "magic sign-in link (no SMTP_URL set)" && l.email === email
  )
    .map((l) => String(l.link));
}

Deno.test("sign-in lockout: requests for an address from many clients neither lock its owner out nor flood the inbox", async () => {
  let now = Date.UTC(2026, 10, 27, 0, 1);
  const server = await startTestServer({ TRUSTED_PROXY: "1" }, { now: () => now });
  try {
    const victim = "victim@example.com";
    // Ten clients, each up to its (address, client) limit and one more.
    for (let ip = 1; ip <= 10; ip++) {
      for (let i = 0; i < 6; i++) {
        const res = await requestLink(server, victim, `198.51.100.${ip}`);
        await res.body?.cancel();
        assert.equal(res.status, i < 5 ? 200 : 429, `client ${ip}, request ${i}`);
      }
    }
    // One mail went out; the owner asking from home is not refused and can use the link.
    const owner = await requestLink(server, victim, "203.0.113.9");
    await owner.body?.cancel();
    assert.equal(owner.status, 200);
    const links = linksTo(server, victim);
    assert.equal(links.length, 1);
    const token = new URL(links[0]).searchParams.get("token")!;
    const done = await fetch(server.url + "/auth/magic", {
      method: "POST",
      headers: { "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ token }),
      redirect: "manual",
    });
    await done.body?.cancel();
    assert.equal(done.status, 303);
    assert.match(done.headers.get("Set-Cookie") ?? "", /pv_session=[0-9a-f]{64}/);

    // Once the last link has expired a request mails a new one, at most 10 a day per address.
    for (let i = 0; i < 40; i++) {
      now += 16 * 60_000;
      const res = await requestLink(server, victim, `192.0.2.${i}`);
      await res.body?.cancel();
      assert.equal(res.status, 200);
    }
    assert.equal(linksTo(server, victim).length, 10, "ten mails on the first day");
    now += 86_400_000;
    const nextDay = await requestLink(server, victim, "192.0.2.200");
    await nextDay.body?.cancel();
    assert.equal(linksTo(server, victim).length, 11);
  } finally {
    await server.close();
  }
});
