import assert from "node:assert/strict";
import { clientAddress, isLoopbackIp, isLoopbackUrl } from "./client.ts";

function info(hostname: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: "tcp", hostname, port: 40000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
}
const req = (headers: Record<string, string> = {}) =>
  new Request("http://localhost:3001/login", { headers });

Deno.test("loopback addresses and URLs", () => {
  for (const ip of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assert.ok(isLoopbackIp(ip), ip);
  }
  for (const ip of ["10.0.0.1", "192.168.1.2", "0.0.0.0", "::", "::ffff:10.0.0.1", "fe80::1", ""]) {
    assert.ok(!isLoopbackIp(ip), ip);
  }
  for (const u of ["http://localhost:3001", "http://127.0.0.1:3001/", "http://[::1]:3001"]) {
    assert.ok(isLoopbackUrl(u), u);
  }
  for (
    const u of [
      "https://pipevideo.example",
      "http://192.168.1.5:3001",
      "http://localhost.evil.example",
      "http://127.0.0.1.nip.io",
      "http://0.0.0.0:3001",
      "not a url",
    ]
  ) {
    assert.ok(!isLoopbackUrl(u), u);
  }
});

Deno.test("a request is local only from a loopback peer that no proxy relayed", () => {
  assert.deepEqual(clientAddress(req(), info("127.0.0.1")), { ip: "127.0.0.1", local: true });
  assert.deepEqual(clientAddress(req(), info("::1")), { ip: "::1", local: true });
  assert.deepEqual(clientAddress(req(), info("203.0.113.9")), {
    ip: "203.0.113.9",
    local: false,
  });
  // A proxy on this machine relays others' requests: not local, whatever the peer is.
  for (
    const h of <Record<string, string>[]> [
      { "X-Forwarded-For": "203.0.113.9" },
      { "X-Forwarded-For": "127.0.0.1" },
      { Forwarded: "for=203.0.113.9" },
      { "X-Real-IP": "203.0.113.9" },
    ]
  ) {
    assert.equal(clientAddress(req(h), info("127.0.0.1")).local, false, JSON.stringify(h));
  }
  const unix = { remoteAddr: { transport: "unix", path: "/tmp/s" } } as Deno.ServeHandlerInfo;
  assert.deepEqual(clientAddress(req(), unix), { ip: "unknown", local: false });
});
