import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { SIGNIN_LIMITS } from "../../lib/auth/signin.ts";

const T0 = Date.UTC(2026, 10, 27, 12, 3, 7);

async function login(server: TestServer, email: string, forwardedFor?: string) {
  const res = await fetch(server.url + "/login", {
    method: "POST",
    headers: {
      "Sec-Fetch-Site": "same-origin",
      ...(forwardedFor ? { "X-Forwarded-For": forwardedFor } : {}),
    },
    body: new URLSearchParams({ email }),
  });
  return { status: res.status, retryAfter: res.headers.get("Retry-After"), body: await res.text() };
}

const email = (i: number) => `u${i}-${crypto.randomUUID().slice(0, 6)}@example.com`;

Deno.test("TRUSTED_PROXY=1: sign-in is limited per client behind the proxy, not per proxy", async () => {
  const server = await startTestServer({ TRUSTED_PROXY: "1" }, { now: () => T0 });
  try {
    for (let i = 0; i < SIGNIN_LIMITS.perIp.limit; i++) {
      // A client-made entry on the left does not move it to another counter.
      const r = await login(server, email(i), `10.9.9.${i}, 203.0.113.7`);
      assert.equal(r.status, 200, `attempt ${i}`);
    }
    assert.equal((await login(server, email(99), "203.0.113.7")).status, 429);
    assert.equal((await login(server, email(98), "6.6.6.6, 203.0.113.7")).status, 429);
    // Another client behind the same proxy still signs in.
    assert.equal((await login(server, email(97), "198.51.100.4")).status, 200);
    // IPv6 clients are counted by /64.
    for (let i = 0; i < SIGNIN_LIMITS.perIp.limit; i++) {
      assert.equal((await login(server, email(i), `2001:db8:7:7::${i + 1}`)).status, 200);
    }
    assert.equal((await login(server, email(96), "2001:db8:7:7:ffff::1")).status, 429);
    assert.equal((await login(server, email(95), "2001:db8:7:8::1")).status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("without TRUSTED_PROXY a made-up X-Forwarded-For does not escape the per-address limit", async () => {
  const server = await startTestServer({}, { now: () => T0 });
  try {
    for (let i = 0; i < SIGNIN_LIMITS.perIp.limit; i++) {
      assert.equal((await login(server, email(i), `10.0.0.${i}`)).status, 200);
    }
    assert.equal((await login(server, email(50), "10.0.1.1")).status, 429);
    assert.equal((await login(server, email(51))).status, 429);
  } finally {
    await server.close();
  }
});

Deno.test("the (email, client) limit and the address limit answer alike (status, Retry-After, body)", async () => {
  const server = await startTestServer({ TRUSTED_PROXY: "1" }, { now: () => T0 });
  try {
    for (let i = 0; i < SIGNIN_LIMITS.perEmail.limit; i++) {
      assert.equal((await login(server, "victim@example.com", "198.51.100.7")).status, 200);
    }
    const byEmail = await login(server, "victim@example.com", "198.51.100.7");
    for (let i = 0; i < SIGNIN_LIMITS.perIp.limit; i++) {
      assert.equal((await login(server, email(i), "203.0.113.50")).status, 200);
    }
    const byIp = await login(server, email(77), "203.0.113.50");
    assert.equal(byEmail.status, 429);
    assert.deepEqual(byIp, byEmail);
    assert.deepEqual(
      server.logs.filter((l) => l.msg === "sign-in rate limited").map((l) => l.scope),
      ["email_client", "ip"],
    );
  } finally {
    await server.close();
  }
});
