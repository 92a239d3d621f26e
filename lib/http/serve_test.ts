/**
 * The node:http serving path (lib/http/serve.ts) in-process: handlers get real Requests (one
 * rebuilt with `new Request(req, …)`, as the body-limit middleware does), bodies with and without
 * a length, several Set-Cookie headers, the client's address; shutdown does not wait for an idle
 * keep-alive connection.
 */
import assert from "node:assert/strict";
import { serveApp } from "./serve.ts";

Deno.test("serveApp over node:http: real requests, bodies, cookies, address, quick shutdown", async () => {
  const served = await serveApp(async (req, info) => {
    const rebuilt = new Request(req, { headers: req.headers });
    const body = req.body ? await rebuilt.text() : null;
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    return new Response(
      JSON.stringify({
        method: req.method,
        body,
        peer: (info.remoteAddr as Deno.NetAddr).hostname,
      }),
      { headers },
    );
  }, {
    port: 0,
    hostname: "127.0.0.1",
    bounds: { headersTimeoutMs: 5000, requestTimeoutMs: 10000 },
  });
  const url = `http://127.0.0.1:${served.addr.port}/x`;
  try {
    const chunked = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode("hello "));
        c.enqueue(new TextEncoder().encode("world"));
        c.close();
      },
    });
    const cases: [RequestInit, unknown][] = [
      [{ method: "POST", body: chunked }, "hello world"],
      [{ method: "POST", body: "sized" }, "sized"],
      [{ method: "DELETE" }, null],
      [{ method: "GET" }, null],
    ];
    for (const [init, body] of cases) {
      const res = await fetch(url, init);
      assert.equal(res.status, 200, init.method);
      assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.deepEqual(await res.json(), { method: init.method, body, peer: "127.0.0.1" });
    }
  } finally {
    // The fetch client keeps its connection open (idle keep-alive): shutdown closes it.
    const start = Date.now();
    await served.shutdown();
    assert.ok(Date.now() - start < 5000, `shutdown took ${Date.now() - start} ms`);
  }
});
