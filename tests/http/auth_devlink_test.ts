import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { createServices } from "../../lib/services.ts";
import { testConfig } from "../../lib/config.ts";
import { requestMagicLink } from "../../lib/auth/signin.ts";

const FORM = { "Sec-Fetch-Site": "same-origin" };
const DEV_LINK = /data-testid="dev-magic-link"/;

async function askForLink(url: string, email: string, headers: Record<string, string> = {}) {
  const res = await fetch(url + "/login", {
    method: "POST",
    headers: { ...FORM, ...headers },
    body: new URLSearchParams({ email }),
  });
  assert.equal(res.status, 200);
  return await res.text();
}

Deno.test("development on localhost: the sign-in link is shown on the page (any loopback URL)", async () => {
  for (const publicUrl of ["http://localhost:3001", "http://127.0.0.1:3001", "http://[::1]:3001"]) {
    const server = await startTestServer({ APP_ENV: "development", PUBLIC_URL: publicUrl });
    try {
      const html = await askForLink(server.url, "dev@example.com");
      assert.match(html, DEV_LINK, publicUrl);
      assert.match(
        html,
        new RegExp(`href="${publicUrl.replace(/[[\]]/g, "\\$&")}/auth/magic\\?token=`),
      );
    } finally {
      await server.close();
    }
  }
});

Deno.test("development reachable under a public name, or through a proxy: the link is only logged", async () => {
  const exposed = await startTestServer({
    APP_ENV: "development",
    PUBLIC_URL: "http://pipevideo.example",
  });
  try {
    const html = await askForLink(exposed.url, "victim@example.com");
    assert.doesNotMatch(html, DEV_LINK);
    assert.doesNotMatch(html, /auth\/magic\?token=/);
    // No mail server: the page does not claim an email was sent.
    assert.doesNotMatch(html, /We sent a sign-in link/);
    assert.match(html, /no email was sent: the sign-in link/);
    const logged = exposed.logs.find((l) => l.email === "victim@example.com");
    assert.match(String(logged?.link), /^http:\/\/pipevideo\.example\/auth\/magic\?token=/);
    assert.equal(logged?.shown_on_page, false);
  } finally {
    await exposed.close();
  }
  const proxied = await startTestServer({ APP_ENV: "development" });
  try {
    for (
      const h of <Record<string, string>[]> [
        { "X-Forwarded-For": "203.0.113.7" },
        { Forwarded: "for=203.0.113.7" },
      ]
    ) {
      const html = await askForLink(proxied.url, "victim@example.com", h);
      assert.doesNotMatch(html, DEV_LINK, JSON.stringify(h));
    }
    assert.match(await askForLink(proxied.url, "me@example.com"), DEV_LINK);
  } finally {
    await proxied.close();
  }
});

Deno.test("requestMagicLink: a request from another machine never gets the link back", async () => {
  const config = testConfig({ APP_ENV: "development" });
  const logs: Record<string, unknown>[] = [];
  const services = await createServices(config, {
    log: (level, msg, fields) => logs.push({ level, msg, ...fields }),
  });
  try {
    const remote = await requestMagicLink(services, {
      email: "victim@example.com",
      client: { ip: "203.0.113.7", local: false },
    });
    assert.equal(remote.devLink, null);
    assert.ok(logs.some((l) => l.email === "victim@example.com" && l.link), "still logged");
    const local = await requestMagicLink(services, {
      email: "me@example.com",
      client: { ip: "127.0.0.1", local: true },
    });
    assert.match(String(local.devLink), /^http:\/\/localhost:3001\/auth\/magic\?token=/);
    // Tests and production never show it, local or not.
    const test = await createServices(testConfig(), { kv: services.kv, log: () => {} });
    const r = await requestMagicLink(test, {
      email: "t@example.com",
      client: { ip: "127.0.0.1", local: true },
    });
    assert.equal(r.devLink, null);
  } finally {
    services.kv.close();
    await Deno.remove(config.DATA_DIR, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name: "README promise: `deno task start` with no configuration signs in on http://localhost:3001",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const dataDir = await Deno.makeTempDir({ prefix: "pipevideo-start-" });
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      PORT: String(port),
      DENO_KV_PATH: ":memory:",
      DATA_DIR: dataDir,
    };
    for (const k of ["DENO_DIR", "DENO_NO_UPDATE_CHECK", "XDG_CACHE_HOME"]) {
      const v = Deno.env.get(k);
      if (v) env[k] = v;
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: new URL("../../", import.meta.url).pathname,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const r = await fetch(base + "/healthz");
          await r.body?.cancel();
          if (r.ok) break;
        } catch { /* not listening yet */ }
        if (Date.now() > deadline) throw new Error("main.ts did not start within 60 s");
        await new Promise((r) => setTimeout(r, 100));
      }
      const html = await askForLink(base, "first@example.com");
      assert.match(html, DEV_LINK);
      assert.match(html, new RegExp(`href="http://localhost:${port}/auth/magic\\?token=`));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      const [out, err] = await output;
      if (!(await child.status).success) console.error(out, err);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
