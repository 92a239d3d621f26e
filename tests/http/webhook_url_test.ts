/**
 * A per-request `webhook_url` is refused at submission when it can never be delivered to: a
 * scheme other than http(s) anywhere, and in production a loopback name or a private, loopback
 * or link-local IP literal. Decided from the URL alone: the POST makes no network call.
 */
import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { getBalance } from "../../lib/db/ledger.ts";
import { call, fundedOrg } from "../support/api.ts";

const ok = { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" };

const PRIVATE_TARGETS = [
  "http://localhost/hook",
  "http://LOCALHOST.:8080/hook",
  "https://api.localhost/hook",
  "http://127.0.0.1:9/hook",
  "http://2130706433/hook", // 127.0.0.1 spelled as one number
  "http://10.1.2.3/hook",
  "http://192.168.0.10/hook",
  "http://169.254.169.254/latest/meta-data",
  "http://0.0.0.0/hook",
  "http://[::1]/hook",
  "http://[fe80::1]/hook",
  "http://[::ffff:127.0.0.1]/hook",
];

Deno.test("production: webhook_url on localhost or a private IP literal is refused with 400, nothing charged", async () => {
  const server = await startTestServer({
    APP_ENV: "production",
    PUBLIC_URL: "https://pipevideo.test", // production requires https
    SECRET_KEY: "prod-secret-0123456789abcdef0123456789abcdef",
    RATE_LIMIT_PER_MINUTE: "1000",
  });
  try {
    assert.equal(server.services.config.production, true);
    const { orgId, key } = await fundedOrg(server.services, 100);
    const post = (body: unknown) =>
      call(server.url, "POST", "/v1/video/generations", { key, body });

    for (const url of [...PRIVATE_TARGETS, "ftp://hooks.example.com/x"]) {
      for (const field of ["webhook_url", "webhookUrl"]) {
        const r = await post({ ...ok, [field]: url });
        assert.equal(r.status, 400, `${field}=${url}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.error.param, /^webhook_?[uU]rl$/, url);
        assert.match(r.body.message, /webhook_url|not allowed|http/, url);
      }
    }
    assert.equal(await getBalance(server.services.kv, orgId), 100);
    const list = await call(server.url, "GET", "/v1/video/generations", { key });
    assert.equal(list.body.data.length, 0);

    // Public targets pass: a hostname is not resolved here (delivery does the DNS check).
    for (const url of ["https://hooks.example.com/pv", "http://93.184.216.34/hook"]) {
      const r = await post({ ...ok, webhook_url: url });
      assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("development: a local webhook_url is accepted; a non-http(s) one is not", async () => {
  const server = await startTestServer();
  try {
    assert.equal(server.services.config.production, false);
    const { key } = await fundedOrg(server.services, 100);
    const post = (body: unknown) =>
      call(server.url, "POST", "/v1/video/generations", { key, body });
    for (const url of ["http://localhost:8080/hook", "http://127.0.0.1:9/hook"]) {
      const r = await post({ ...ok, webhook_url: url });
      assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
    }
    for (const url of ["file:///etc/passwd", "javascript:alert(1)", "gopher://x/"]) {
      const r = await post({ ...ok, webhook_url: url });
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.param, "webhook_url");
      assert.match(r.body.message, /http or https/);
    }
  } finally {
    await server.close();
  }
});
