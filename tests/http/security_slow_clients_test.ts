/**
 * Slow clients (issue 27): main.ts as its own process with short bounds. A client trickling its
 * headers, or its body, a byte at a time is answered 408 and disconnected within the bound; a
 * prompt client on the same server is served as usual, its address seen as the client's.
 */
import assert from "node:assert/strict";
import { freePort, startApp, stopApp } from "../support/app_process.ts";

const HEADERS_S = 1;
const REQUEST_S = 2;
// The server checks its connections every second at most; the rest is a loaded machine.
const SLACK_MS = 4000;

/**
 * Sends `payload` a byte every `everyMs` while reading the answer; returns how long the server
 * kept the connection and what it said (or null when it never closed within `giveUpMs`).
 */
async function trickle(port: number, payload: string, everyMs: number, giveUpMs = 20_000) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const start = Date.now();
  let closedAt: number | null = null;
  const reply: string[] = [];
  const reading = (async () => {
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        reply.push(new TextDecoder().decode(buf.subarray(0, n)));
      }
    } catch { /* reset by the server: closed too */ }
    closedAt = Date.now();
  })();
  const bytes = new TextEncoder().encode(payload);
  try {
    for (let i = 0; i < bytes.length && closedAt === null && Date.now() - start < giveUpMs; i++) {
      await conn.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } catch { /* the server closed first */ }
  if (closedAt === null) {
    conn.close();
    await reading;
    return { heldMs: null, reply: reply.join("") };
  }
  await reading;
  conn.close();
  return { heldMs: closedAt! - start, reply: reply.join("") };
}

Deno.test("slow clients: trickled headers or body are cut off at the bound; prompt clients are served", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-slow-" });
  const port = freePort();
  const app = await startApp(dir, port, {
    REQUEST_HEADERS_TIMEOUT_SECONDS: String(HEADERS_S),
    REQUEST_TIMEOUT_SECONDS: String(REQUEST_S),
  });
  try {
    const headers = trickle(
      port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(400)}\r\n\r\n`,
      250,
    );
    const body = trickle(
      port,
      `POST /v1/video/generations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: 400\r\n\r\n${"b".repeat(400)}`,
      250,
    );
    // Meanwhile a prompt client is served, with a body, over the same server.
    const prompt = await fetch(`http://127.0.0.1:${port}/v1/models`, {
      method: "POST",
      body: JSON.stringify({ x: 1 }),
    });
    assert.ok(prompt.status < 500, String(prompt.status));
    await prompt.body?.cancel();
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();

    const h = await headers;
    assert.ok(h.heldMs !== null, "a trickled header was never cut off");
    assert.ok(h.heldMs <= HEADERS_S * 1000 + SLACK_MS, `headers held ${h.heldMs} ms`);
    assert.match(h.reply, /^HTTP\/1\.1 408/);
    const b = await body;
    assert.ok(b.heldMs !== null, "a trickled body was never cut off");
    assert.ok(b.heldMs <= REQUEST_S * 1000 + SLACK_MS, `body held ${b.heldMs} ms`);
    assert.match(b.reply, /^HTTP\/1\.1 408/);
  } finally {
    await stopApp(app);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
