import assert from "node:assert/strict";
import { startTestServer } from "../tests/support/server.ts";
import { generateManifest } from "./fresh/manifest.ts";
import { limitBody } from "./http/security.ts";
import { PayloadTooLarge } from "./errors.ts";
import { ConfigError, parseEnv } from "./config.ts";
import { createOrg } from "./db/orgs.ts";
import { createApiKey } from "./db/apikeys.ts";

Deno.test("every response carries security headers and a request id, logged once", async () => {
  const server = await startTestServer();
  try {
    for (const path of ["/", "/styles.css", "/v1/nope", "/nope", "/healthz"]) {
      const res = await fetch(server.url + path + "?token=s3cret", {
        headers: { Authorization: "Bearer pv_supersecret" },
      });
      await res.body?.cancel();
      const csp = res.headers.get("Content-Security-Policy")!;
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff", path);
      assert.equal(res.headers.get("X-Frame-Options"), "DENY", path);
      assert.ok(res.headers.get("Referrer-Policy"), path);
      assert.match(res.headers.get("X-Request-Id")!, /^req_[0-9A-Z]{26}$/, path);
    }
    const lines = server.logs.filter((l) => l.msg === "request");
    assert.equal(lines.length, 5);
    assert.deepEqual(
      lines.map((l) => [l.method, l.path, l.status]),
      [
        ["GET", "/", 200],
        ["GET", "/styles.css", 200],
        ["GET", "/v1/nope", 401],
        ["GET", "/nope", 404],
        ["GET", "/healthz", 200],
      ],
    );
    assert.ok(lines.every((l) => typeof l.duration_ms === "number"));
    const all = JSON.stringify(server.logs);
    assert.doesNotMatch(all, /s3cret|supersecret/, "query strings and keys are never logged");
  } finally {
    await server.close();
  }
});

Deno.test("unknown API paths answer JSON errors; browsers get an HTML 404 page", async () => {
  const server = await startTestServer();
  try {
    const { kv } = server.services;
    const org = await createOrg(kv, { name: "Acme" });
    const { key } = await createApiKey(kv, org.id, { name: "test" });
    const api = await fetch(server.url + "/v1/does-not-exist", {
      headers: { Authorization: `Bearer ${key}` },
    });
    assert.equal(api.status, 404);
    assert.match(api.headers.get("Content-Type")!, /application\/json/);
    assert.deepEqual(await api.json(), {
      message: "Not found",
      error: { type: "not_found_error", code: "not_found", param: null },
    });
    const page = await fetch(server.url + "/does-not-exist", { headers: { Accept: "text/html" } });
    assert.equal(page.status, 404);
    assert.match(await page.text(), /Page not found/);
    const program = await fetch(server.url + "/does-not-exist", {
      headers: { Accept: "application/json" },
    });
    assert.equal((await program.json()).error.code, "not_found");
  } finally {
    await server.close();
  }
});

Deno.test("CSRF: a cross-site form post is refused; same-origin and non-browser clients pass", async () => {
  const server = await startTestServer();
  try {
    const post = (headers: Record<string, string>, path = "/") =>
      fetch(server.url + path, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body: "name=x",
      });
    const crossSite = await post({ "Sec-Fetch-Site": "cross-site" });
    assert.equal(crossSite.status, 403);
    assert.match(await crossSite.text(), /Cross-site request refused/);
    const sameSite = await post({ "Sec-Fetch-Site": "same-site" });
    assert.equal(sameSite.status, 403, "a sibling subdomain is another site's page too");
    await sameSite.body?.cancel();
    const evilOrigin = await post({ Origin: "https://evil.example" });
    assert.equal(evilOrigin.status, 403);
    await evilOrigin.body?.cancel();
    // Not refused as CSRF (the home page has no POST handler, so 405).
    const sameOrigin = await post({ "Sec-Fetch-Site": "same-origin", Origin: server.url });
    assert.equal(sameOrigin.status, 405);
    await sameOrigin.body?.cancel();
    const curl = await post({});
    assert.equal(curl.status, 405);
    await curl.body?.cancel();
    // Bearer-token APIs are exempt: a cross-site page cannot attach an API key.
    const api = await post({ "Sec-Fetch-Site": "cross-site" }, "/v1/anything");
    assert.equal(api.status, 401, "refused for want of a key, not as CSRF");
    await api.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("bodies over the limit are refused with 413, by header or while streaming", async () => {
  const server = await startTestServer({ MAX_BODY_BYTES: "2048" });
  try {
    const res = await fetch(server.url + "/v1/video/generations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "x".repeat(5000),
    });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "payload_too_large");
  } finally {
    await server.close();
  }
  const chunks = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(1000));
      c.close();
    },
  });
  const streamed = limitBody(
    new Request("http://x/", { method: "POST", body: chunks, duplex: "half" } as RequestInit),
    2048,
  );
  await assert.rejects(() => streamed.arrayBuffer(), PayloadTooLarge);
  const small = limitBody(new Request("http://x/", { method: "POST", body: "{}" }), 2048);
  assert.equal(await small.text(), "{}");
});

Deno.test("healthz answers 200 while KV answers, 503 when it does not", async () => {
  const server = await startTestServer();
  try {
    const ok = await fetch(server.url + "/healthz");
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: "ok" });
    server.services.kv.close();
    const down = await fetch(server.url + "/healthz");
    assert.equal(down.status, 503);
    await down.body?.cancel();
    server.services.kv = await Deno.openKv(":memory:");
  } finally {
    await server.close();
  }
});

Deno.test("island bundles are content-hashed and cached for a year; island-less pages ship no JS", async () => {
  const server = await startTestServer();
  try {
    const html = await (await fetch(server.url + "/")).text();
    const boot = html.match(/<script type="module" src="(\/_build\/boot-[A-Z0-9]+\.js)">/)?.[1];
    assert.ok(boot, "home page loads the boot script");
    const files = JSON.parse(html.match(/id="__pv_islands">(.*?)<\/script>/)![1]).files;
    for (const path of [boot, files.PriceEstimator]) {
      const res = await fetch(server.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("Content-Type")!, /javascript/);
      assert.equal(res.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
      assert.ok((await res.text()).length > 100);
    }
    const missing = await fetch(server.url + "/_build/boot-NOPE.js");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const errorPage = await (await fetch(server.url + "/nope")).text();
    assert.doesNotMatch(errorPage, /<script/);
  } finally {
    await server.close();
  }
});

Deno.test("the checked-in route manifest is up to date (run `deno task build` if not)", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const expected = await generateManifest(root);
  const actual = await Deno.readTextFile(root + "manifest.gen.ts");
  assert.equal(actual, expected);
});

Deno.test("configuration: a bad value stops start-up with a message naming the variable", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: "not-a-port" }, /PORT/],
    [{ PORT: "70000" }, /PORT/],
    [{ APP_ENV: "staging" }, /APP_ENV/],
    [{ PUBLIC_URL: "ftp://x" }, /PUBLIC_URL/],
    [{ APP_ENV: "production" }, /SECRET_KEY: required in production/],
    [{ APP_ENV: "production", SECRET_KEY: "x".repeat(40) }, /PUBLIC_URL: an https/],
    [
      { APP_ENV: "production", SECRET_KEY: "x".repeat(40), PUBLIC_URL: "http://pv.example" },
      /PUBLIC_URL: an https/,
    ],
    [{ STRIPE_SECRET_KEY: "sk_test_x" }, /STRIPE_WEBHOOK_SECRET: .*set together/],
    [{ STRIPE_WEBHOOK_SECRET: "whsec_x" }, /STRIPE_SECRET_KEY: .*set together/],
    [{ SECRET_KEY: "short" }, /SECRET_KEY/],
    [{ GEMINI_BASE_URL: "not a url" }, /GEMINI_BASE_URL/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => parseEnv(env), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, message);
      return true;
    });
  }
  assert.equal(
    parseEnv({
      APP_ENV: "production",
      SECRET_KEY: "x".repeat(40),
      PUBLIC_URL: "https://pv.example",
    })
      .APP_ENV,
    "production",
  );
  const ok = parseEnv({});
  assert.equal(ok.PORT, 3001);
  assert.equal(ok.DENO_KV_PATH, "./data/pipevideo.sqlite");
});

Deno.test("secret route params (invitation tokens) are redacted from request logs", async () => {
  const server = await startTestServer();
  try {
    const res = await fetch(server.url + "/invites/inv-secret-token-123");
    await res.body?.cancel();
    const line = server.logs.find((l) => l.msg === "request")!;
    assert.equal(line.path, "/invites/[redacted]");
    assert.doesNotMatch(JSON.stringify(server.logs), /inv-secret-token-123/);
  } finally {
    await server.close();
  }
});

Deno.test("the server shuts down cleanly on SIGTERM and flushes its log", async () => {
  const dir = await Deno.makeTempDir();
  const port = 4300 + Math.floor(Math.random() * 500);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { PORT: String(port), DATA_DIR: dir, DENO_KV_PATH: `${dir}/kv.sqlite`, APP_ENV: "test" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      assert.ok(!exited, "the server exited during start-up (see its stderr above)");
      try {
        await (await fetch(`http://127.0.0.1:${port}/healthz`)).body?.cancel();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    child.kill("SIGTERM");
    const { code } = await child.status;
    const out = new TextDecoder().decode(await new Response(child.stdout).arrayBuffer());
    assert.equal(code, 0);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.msg === "request" && l.path === "/healthz"), out);
    assert.ok(lines.some((l) => l.msg === "shutting down" && l.signal === "SIGTERM"), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
