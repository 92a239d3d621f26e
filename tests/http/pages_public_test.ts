import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { generationBodySchema } from "../../lib/generations/schema.ts";
import { MODELS } from "../../lib/catalog/mod.ts";
import { addModelOutcome } from "../../lib/db/usage.ts";
import { call, fundedOrg } from "../support/api.ts";
import { signIn } from "../support/auth.ts";
import { get as httpGet } from "node:http";

const PUBLIC_URL = "https://video.example.com";

Deno.test("/docs is public and fills in this server's PUBLIC_URL and rate limit", async () => {
  const server = await startTestServer({ PUBLIC_URL, RATE_LIMIT_PER_MINUTE: "42" });
  try {
    const res = await fetch(server.url + "/docs");
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /curl -s https:\/\/video\.example\.com\/v1\/video\/generations/);
    assert.match(html, /const BASE = &quot;https:\/\/video\.example\.com&quot;|BASE = "https/);
    assert.match(html, /42 requests per minute/);
    assert.match(html, /async function verifyWebhook/);
    assert.match(html, /href="\/openapi.json"/);
    assert.match(html, /Idempotency-Key/);
    assert.match(html, /insufficient_credits/);
  } finally {
    await server.close();
  }
});

Deno.test("/openapi.json is JSON for this server, and a POST with every documented field is accepted", async () => {
  const server = await startTestServer({ PUBLIC_URL });
  try {
    const res = await fetch(server.url + "/openapi.json");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("Content-Type")!, /application\/json/);
    const doc = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.servers, [{ url: PUBLIC_URL }]);
    const request = doc.components.schemas.GenerationRequest;
    assert.deepEqual(
      Object.keys(request.properties).sort(),
      Object.keys(generationBodySchema.shape).sort(),
    );

    // Every field the document describes, at once, against the real endpoint.
    const { key } = await fundedOrg(server.services, 1000);
    const body = {
      model: "local/preview",
      prompt: "a lighthouse at dusk",
      duration: 2,
      resolution: "360p",
      aspect_ratio: "16:9",
      provider: "local",
      seed: 7,
      metadata: { team: "docs" },
    };
    for (const field of Object.keys(body)) assert.ok(request.properties[field], field);
    const created = await call(server.url, "POST", "/v1/video/generations", { key, body });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.status, "pending");
    // A value outside the documented limits is refused with the field named.
    const tooLong = "x".repeat(request.properties.prompt.maxLength + 1);
    const bad = await call(server.url, "POST", "/v1/video/generations", {
      key,
      body: { model: "local/preview", prompt: tooLong },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, "prompt");
  } finally {
    await server.close();
  }
});

Deno.test("/models lists configured models with prices, 7-day metrics and routes", async () => {
  const server = await startTestServer({ FAL_KEY: "fal-test" });
  try {
    const now = Date.now();
    const a = server.services.kv.atomic();
    addModelOutcome(a, "local/preview", "completed", 1500, now);
    addModelOutcome(a, "local/preview", "completed", 2500, now);
    addModelOutcome(a, "local/preview", "failed", null, now);
    addModelOutcome(a, "local/preview", "completed", 2000, now);
    await a.commit();

    const res = await fetch(server.url + "/models");
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /data-slug="local\/preview"/);
    assert.match(html, /data-slug="alibaba\/wan-2.5"/); // served by fal
    assert.match(html, /data-testid="success-rate">75%</);
    // Local Preview: 1 cent per second at 480p, 4 s default clip.
    assert.match(html, /<th scope="row">480p<\/th><td>\$0\.01<\/td><td>\$0\.04<\/td>/);
    assert.match(html, /Routes: fal/);
    // Models of providers without keys say what to configure.
    assert.match(html, /Not configured on this server/);
    assert.match(html, /LUMAAI_API_KEY/);
    assert.doesNotMatch(html, /data-slug="runway\/gen4-turbo"/);
    assert.match(html, /RUNWAYML_API_SECRET/);
  } finally {
    await server.close();
  }
});

Deno.test("/models filters by maker, image input and audio with a plain query string", async () => {
  const server = await startTestServer({ FAL_KEY: "fal-test" });
  try {
    const slugs = async (query: string) => {
      const html = await (await fetch(server.url + "/models" + query)).text();
      return [...html.matchAll(/data-slug="([^"]+)"/g)].map((m) => m[1]);
    };
    const all = await slugs("");
    assert.ok(all.length > 3);
    assert.deepEqual(await slugs("?maker=local"), ["local/preview"]);
    const withAudio = await slugs("?audio=yes");
    assert.ok(withAudio.length > 0);
    for (const s of withAudio) {
      assert.equal(MODELS.find((m) => m.slug === s)!.capabilities.audio, true);
    }
    const textOnly = await slugs("?image=no");
    assert.deepEqual(textOnly, ["local/preview"]);
    // Nonsense values are ignored rather than failing the page.
    assert.deepEqual(await slugs("?image=maybe&audio="), all);
    const none = await (await fetch(server.url + "/models?maker=local&audio=yes")).text();
    assert.match(none, /No model matches these filters/);
  } finally {
    await server.close();
  }
});

Deno.test("pages load their stylesheet fingerprinted, scripts preloaded, JSON and JS compressed", async () => {
  const server = await startTestServer();
  try {
    const user = await signIn(server);
    const html = await (await fetch(server.url + "/playground", { headers: user.headers })).text();
    const css = html.match(/<link rel="stylesheet" href="(\/styles\.css\?v=[0-9a-f]{16})"/)?.[1];
    assert.ok(css, "styles.css is fingerprinted");
    const preloads = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)"/g)].map((m) =>
      m[1]
    );
    const boot = html.match(/<script type="module" src="([^"]+)"/)![1];
    assert.ok(preloads.includes(boot), "the boot script is preloaded");
    assert.ok(preloads.some((p) => /island-Playground-/.test(p)), "its islands too");
    // node:http, because fetch would undo the encoding before the test could see it.
    const encodingOf = (path: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        httpGet(server.url + path, { headers: { "Accept-Encoding": "br" } }, (res) => {
          res.resume();
          resolve(res.headers["content-encoding"]);
        }).on("error", reject);
      });
    for (const path of [css, boot, "/openapi.json"]) {
      assert.equal(await encodingOf(path), "br", path);
    }
  } finally {
    await server.close();
  }
});

Deno.test("home knows a signed-in user; docs render the API reference from /openapi.json", async () => {
  const server = await startTestServer();
  try {
    const anon = await (await fetch(server.url + "/")).text();
    assert.match(anon, /href="\/login">Get started</);
    const user = await signIn(server);
    const home = await (await fetch(server.url + "/", { headers: user.headers })).text();
    assert.match(home, /href="\/playground">Open the dashboard</);
    assert.match(home, /--json '\{&quot;model&quot;:&quot;local\/preview/);
    // A sample clip, served from this server.
    assert.match(home, /<video src="\/sample\.mp4"/);
    const clip = await fetch(server.url + "/sample.mp4");
    assert.equal(clip.headers.get("Content-Type"), "video/mp4");
    assert.ok((await clip.arrayBuffer()).byteLength > 10_000);

    const docs = await (await fetch(server.url + "/docs")).text();
    const doc = await (await fetch(server.url + "/openapi.json")).json();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) {
        const op = `${method.toUpperCase()} ${path}`.replaceAll("{", "\\{").replaceAll("}", "\\}");
        assert.match(docs, new RegExp(`<code>${op}</code>`), `${method} ${path} in the reference`);
      }
    }
    // The submit example in three languages, each with a copy button.
    for (const tab of ["curl", "JavaScript", "Python"]) {
      assert.match(docs, new RegExp(`role="tab"[^>]*>${tab}</button>`));
    }
    assert.ok((docs.match(/data-testid="copy-button"/g) ?? []).length >= 4);
  } finally {
    await server.close();
  }
});
