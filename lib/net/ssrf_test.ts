import assert from "node:assert/strict";
import {
  assertPublicUrl,
  guardedFetch,
  headersForHop,
  isPrivateAddress,
  OutboundRequestError,
  type Resolver,
} from "./ssrf.ts";
import { BadRequest } from "../errors.ts";

/** A real HTTP server on 127.0.0.1; `hits` records the paths it was asked for. */
function startServer(handler: (req: Request) => Response | Promise<Response>) {
  const hits: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    hits.push(new URL(req.url).pathname);
    return handler(req);
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { server, base, hits, [Symbol.asyncDispose]: () => server.shutdown() };
}

/** Public-looking names resolve to documentation-free public addresses in tests. */
const fakeDns: Record<string, string[]> = {
  "public.example": ["93.184.215.14"],
  "intranet.example": ["10.1.2.3"],
  "mixed.example": ["93.184.215.14", "::1"],
  "v6only.example": ["2606:4700::1111"],
};
const resolve: Resolver = (host) => Promise.resolve(fakeDns[host] ?? []);

/** Sends requests for *.example hosts to the local server, keeping path and query. */
function routeTo(base: string): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return fetch(`${base}${url.pathname}${url.search}`, init);
  };
}

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof OutboundRequestError, `expected OutboundRequestError, got ${err}`);
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

Deno.test("isPrivateAddress: private, loopback, link-local, CGNAT, multicast, mapped forms", () => {
  const privateOnes = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "255.255.255.255",
    "2130706433", // decimal 127.0.0.1
    "0177.0.0.1", // octal
    "0x7f.1", // hex, short form
    "::1",
    "[::1]",
    "::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1", // NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
    "2002:7f00:1::", // 6to4 of 127.0.0.1
    "::7f00:1", // IPv4-compatible
    "not an address",
    "",
  ];
  for (const ip of privateOnes) assert.equal(isPrivateAddress(ip), true, ip);
  const publicOnes = [
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "93.184.215.14",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ];
  for (const ip of publicOnes) assert.equal(isPrivateAddress(ip), false, ip);
});

Deno.test("assertPublicUrl refuses non-http schemes even when private targets are allowed", async () => {
  for (const url of ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "javascript:1"]) {
    await assert.rejects(assertPublicUrl(url, { allowPrivate: true }), BadRequest, url);
  }
  await rejectsWith(assertPublicUrl("not a url", { allowPrivate: true }), "unsupported_url");
  const ok = await assertPublicUrl("http://127.0.0.1:9/x", { allowPrivate: true });
  assert.equal(ok.hostname, "127.0.0.1");
});

Deno.test("assertPublicUrl refuses private targets in every spelling", async () => {
  const refused = [
    "http://127.0.0.1/",
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://localhost:3001/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://intranet.example/",
    "http://mixed.example/",
  ];
  for (const url of refused) {
    await rejectsWith(assertPublicUrl(url, { allowPrivate: false, resolve }), "unsafe_url");
  }
  const err = await assertPublicUrl("http://intranet.example/", {
    allowPrivate: false,
    resolve,
    param: "webhook_url",
  }).catch((e) => e);
  assert.match(err.message, /resolves to 10\.1\.2\.3/);
  assert.equal(err.param, "webhook_url");
  await rejectsWith(
    assertPublicUrl("https://nowhere.example/", { allowPrivate: false, resolve }),
    "unresolvable_host",
  );
  for (const url of ["https://public.example/x", "https://v6only.example/", "http://8.8.8.8/"]) {
    const u = await assertPublicUrl(url, { allowPrivate: false, resolve });
    assert.equal(u.href, new URL(url).href);
  }
});

Deno.test("guardedFetch never connects to a private address when private targets are refused", async () => {
  await using srv = startServer(() => new Response("secret"));
  await rejectsWith(
    guardedFetch(`${srv.base}/secret`, {}, {
      allowPrivate: false,
      maxBytes: 1000,
      timeoutMs: 2000,
      maxRedirects: 3,
      resolve,
    }),
    "unsafe_url",
  );
  assert.deepEqual(srv.hits, []);
});

Deno.test("guardedFetch re-checks every redirect hop: public to private is refused", async () => {
  let base = "";
  await using srv = startServer((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/start") return Response.redirect(`${base}/secret`, 302);
    return new Response("secret");
  });
  base = srv.base;
  await rejectsWith(
    guardedFetch("https://public.example/start", {}, {
      allowPrivate: false,
      maxBytes: 1000,
      timeoutMs: 2000,
      maxRedirects: 3,
      resolve,
      fetch: routeTo(srv.base),
    }),
    "unsafe_url",
  );
  assert.deepEqual(srv.hits, ["/start"]);
});

Deno.test("guardedFetch follows allowed redirects, drops credentials across origins, caps hops", async () => {
  const seen: { path: string; auth: string | null; method: string }[] = [];
  await using srv = startServer((req) => {
    const url = new URL(req.url);
    seen.push({ path: url.pathname, auth: req.headers.get("authorization"), method: req.method });
    if (url.pathname === "/a") return Response.redirect("https://public.example/b", 307);
    if (url.pathname === "/b") return Response.redirect("https://v6only.example/c", 303);
    if (url.pathname === "/loop") return Response.redirect("https://public.example/loop", 302);
    return new Response("done");
  });
  const opts = {
    allowPrivate: false,
    maxBytes: 1000,
    timeoutMs: 2000,
    maxRedirects: 3,
    resolve,
    fetch: routeTo(srv.base),
  };
  const res = await guardedFetch("https://public.example/a", {
    method: "POST",
    body: "x",
    headers: { authorization: "Bearer k" },
  }, opts);
  assert.equal(res.status, 200);
  assert.equal(new TextDecoder().decode(res.body), "done");
  assert.equal(res.url, "https://v6only.example/c");
  assert.deepEqual(seen, [
    { path: "/a", auth: "Bearer k", method: "POST" },
    { path: "/b", auth: "Bearer k", method: "POST" }, // same origin, 307 keeps the method
    { path: "/c", auth: null, method: "GET" }, // other origin, 303 turns into GET
  ]);
  await rejectsWith(guardedFetch("https://public.example/loop", {}, opts), "too_many_redirects");
  assert.equal(seen.filter((s) => s.path === "/loop").length, 4);
});

Deno.test("guardedFetch with maxRedirects 0 returns the 3xx as is", async () => {
  await using srv = startServer(() => Response.redirect("http://10.0.0.1/", 302));
  const res = await guardedFetch(`${srv.base}/`, { method: "POST", body: "{}" }, {
    allowPrivate: true,
    maxBytes: 100,
    timeoutMs: 2000,
    maxRedirects: 0,
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "http://10.0.0.1/");
});

Deno.test("guardedFetch caps the body: truncates, or throws when asked", async () => {
  const big = "x".repeat(50_000);
  await using srv = startServer((req) => {
    if (new URL(req.url).pathname === "/stream") {
      // No content-length: the cap must hold while streaming.
      const chunks = [big, big];
      return new Response(
        new ReadableStream({
          pull(c) {
            const next = chunks.shift();
            if (next) c.enqueue(new TextEncoder().encode(next));
            else c.close();
          },
        }),
      );
    }
    return new Response(big);
  });
  const opts = { allowPrivate: true, maxBytes: 100, timeoutMs: 2000, maxRedirects: 0 };
  const res = await guardedFetch(`${srv.base}/`, {}, opts);
  assert.equal(res.body.byteLength, 100);
  assert.equal(res.truncated, true);
  const small = await guardedFetch(`${srv.base}/`, {}, { ...opts, maxBytes: 50_000 });
  assert.equal(small.truncated, false);
  assert.equal(small.body.byteLength, 50_000);
  await rejectsWith(
    guardedFetch(`${srv.base}/`, {}, { ...opts, overflow: "throw" }),
    "response_too_large",
  );
  await rejectsWith(
    guardedFetch(`${srv.base}/stream`, {}, { ...opts, maxBytes: 60_000, overflow: "throw" }),
    "response_too_large",
  );
});

Deno.test("guardedFetch times out on a silent server and on a stalled body", async () => {
  const release = Promise.withResolvers<void>();
  await using srv = startServer(async (req) => {
    if (new URL(req.url).pathname === "/stall-body") {
      let sent = false;
      return new Response(
        new ReadableStream({
          async pull(c) {
            if (!sent) {
              sent = true;
              c.enqueue(new TextEncoder().encode("start"));
              return;
            }
            await release.promise;
            c.close();
          },
        }),
      );
    }
    await release.promise;
    return new Response("late");
  });
  try {
    const opts = { allowPrivate: true, maxBytes: 1000, timeoutMs: 150, maxRedirects: 0 };
    const t0 = performance.now();
    await rejectsWith(guardedFetch(`${srv.base}/silent`, {}, opts), "fetch_timeout");
    await rejectsWith(guardedFetch(`${srv.base}/stall-body`, {}, opts), "fetch_timeout");
    assert.ok(performance.now() - t0 < 1500, "the timeout must bound the whole request");
    // A slow resolver counts against the same budget.
    const never: Resolver = () => new Promise(() => {});
    await rejectsWith(
      guardedFetch("https://public.example/", {}, { ...opts, allowPrivate: false, resolve: never }),
      "fetch_timeout",
    );
  } finally {
    release.resolve();
  }
});

Deno.test("guardedFetch reports a refused connection as fetch_failed", async () => {
  const srv = startServer(() => new Response("x"));
  const base = srv.base;
  await srv.server.shutdown();
  await rejectsWith(
    guardedFetch(`${base}/`, {}, {
      allowPrivate: true,
      maxBytes: 10,
      timeoutMs: 2000,
      maxRedirects: 0,
    }),
    "fetch_failed",
  );
});

Deno.test("a redirect to another origin carries no caller header but safe ones (no API keys)", () => {
  const headers = new Headers({
    "x-goog-api-key": "SECRET-GEMINI",
    authorization: "Bearer x",
    cookie: "a=b",
    accept: "video/*",
  });
  const from = new URL("https://generativelanguage.googleapis.com/v1beta/files/x");
  const other = headersForHop(headers, from, new URL("https://cdn.example/video.mp4"));
  assert.deepEqual([...other], [["accept", "video/*"]]);
  const same = headersForHop(headers, from, new URL("https://generativelanguage.googleapis.com/y"));
  assert.equal(same.get("x-goog-api-key"), "SECRET-GEMINI");
});
