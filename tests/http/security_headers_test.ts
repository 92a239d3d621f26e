import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { signed, TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET } from "../support/stripe.ts";

Deno.test("island bundles under /_build/ carry the security headers", async () => {
  const server = await startTestServer();
  try {
    const user = await signIn(server);
    const html = await (await fetch(server.url + "/playground", { headers: user.headers })).text();
    const boot = html.match(/src="(\/_build\/[^"]+\.js)"/)![1];
    const res = await fetch(server.url + boot);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff");
    assert.match(res.headers.get("Content-Security-Policy") ?? "", /default-src 'self'/);
    assert.equal(res.headers.get("Strict-Transport-Security"), null); // not over http
  } finally {
    await server.close();
  }
});

Deno.test("HSTS in production over an https PUBLIC_URL, on pages and bundles alike", async () => {
  const server = await startTestServer({
    APP_ENV: "production",
    SECRET_KEY: "prod-secret-0123456789abcdef0123456789abcdef",
  });
  try {
    const html = await (await fetch(server.url + "/login")).text();
    const bundle = html.match(/src="(\/_build\/[^"]+\.js)"/)?.[1] ?? "/_build/none.js";
    for (const path of ["/healthz", "/login", bundle]) {
      const res = await fetch(server.url + path);
      await res.body?.cancel();
      assert.equal(res.headers.get("Strict-Transport-Security"), "max-age=31536000", path);
    }
  } finally {
    await server.close();
  }
});

Deno.test("a validly signed Stripe event without data.object is answered 2xx and logged", async () => {
  const server = await startTestServer({
    STRIPE_SECRET_KEY: TEST_STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  });
  try {
    for (const data of [undefined, {}, { object: null }]) {
      const ev = await signed({
        id: `evt_${crypto.randomUUID()}`,
        object: "event",
        type: "checkout.session.completed",
        ...(data ? { data } : {}),
      });
      const res = await fetch(`${server.url}/api/stripe/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Stripe-Signature": ev.signature },
        body: ev.body,
      });
      await res.body?.cancel();
      assert.equal(res.status, 200, JSON.stringify(data));
    }
    assert.equal(
      server.logs.filter((l) => l.msg === "stripe webhook without data.object").length,
      3,
    );
    assert.equal(server.logs.filter((l) => l.level === "error").length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("?m= codes that are Object.prototype's own names render no notice", async () => {
  const server = await startTestServer();
  try {
    const user = await signIn(server, { role: "owner" });
    for (const m of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      for (
        const [path, headers] of [
          ["/login", {}],
          ["/keys", user.headers],
          ["/settings/members", user.headers],
        ] as const
      ) {
        const res = await fetch(`${server.url}${path}?m=${m}`, { headers });
        const html = await res.text();
        assert.equal(res.status, 200, `${path}?m=${m}`);
        assert.doesNotMatch(html, /class="flash/, `${path}?m=${m}`);
      }
    }
  } finally {
    await server.close();
  }
});
