import assert from "node:assert/strict";
import { pinnedFetch } from "./pinned_fetch.ts";

Deno.test("pinnedFetch connects to the given address and keeps the URL's name as Host", async () => {
  const seen: { host: string | null; body: string; method: string }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    seen.push({ host: req.headers.get("host"), body: await req.text(), method: req.method });
    return new Response("pong", { status: 201, headers: { "x-a": "1", "set-cookie": "a=1" } });
  });
  try {
    // .invalid never resolves: only the pinned address can have been used.
    const url = new URL(`http://rebind.invalid:${server.addr.port}/hook?x=1`);
    const res = await pinnedFetch(url, {
      method: "POST",
      body: "ping",
      headers: { "content-type": "text/plain" },
    }, "127.0.0.1");
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-a"), "1");
    assert.equal(await res.text(), "pong");
    assert.deepEqual(seen, [{
      host: `rebind.invalid:${server.addr.port}`,
      body: "ping",
      method: "POST",
    }]);
  } finally {
    await server.shutdown();
  }
});
