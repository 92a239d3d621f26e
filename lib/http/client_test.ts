import assert from "node:assert/strict";
import { clientAddress, isLoopbackIp, isLoopbackUrl, rateLimitSubject } from "./client.ts";

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

Deno.test("TRUSTED_PROXY=N: the client is N hops from the right of X-Forwarded-For", () => {
  const xff = (v: string) => req({ "X-Forwarded-For": v });
  // One proxy on this machine appended the address it saw.
  assert.deepEqual(clientAddress(xff("203.0.113.9"), info("127.0.0.1"), 1), {
    ip: "203.0.113.9",
    local: false,
  });
  // A client's made-up entries stay on the left and are not believed.
  assert.equal(clientAddress(xff("1.2.3.4, 203.0.113.9"), info("127.0.0.1"), 1).ip, "203.0.113.9");
  assert.equal(clientAddress(xff("1.2.3.4,198.51.100.2"), info("10.0.0.5"), 2).ip, "1.2.3.4");
  assert.equal(clientAddress(xff("198.51.100.2"), info("10.0.0.5"), 3).ip, "198.51.100.2");
  // Ports and brackets are dropped; without trust the header is ignored.
  assert.equal(clientAddress(xff("[2001:db8::1]:443"), info("127.0.0.1"), 1).ip, "2001:db8::1");
  assert.equal(clientAddress(xff("203.0.113.9:5555"), info("127.0.0.1"), 1).ip, "203.0.113.9");
  assert.deepEqual(clientAddress(xff("203.0.113.9"), info("127.0.0.1"), 0), {
    ip: "127.0.0.1",
    local: false,
  });
  // No header (someone reached the app directly): the peer.
  assert.deepEqual(clientAddress(req(), info("198.51.100.2"), 1), {
    ip: "198.51.100.2",
    local: false,
  });
  // Local only when every hop from the client to the app is this machine.
  assert.equal(clientAddress(xff("127.0.0.1"), info("127.0.0.1"), 1).local, true);
  assert.equal(clientAddress(xff("127.0.0.1"), info("10.0.0.5"), 1).local, false);
  assert.equal(clientAddress(xff(""), info("127.0.0.1"), 1).ip, "unknown");
});

Deno.test("rate-limit subject: IPv4 as is, IPv6 by /64", () => {
  assert.equal(rateLimitSubject("203.0.113.9"), "203.0.113.9");
  assert.equal(rateLimitSubject("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(rateLimitSubject("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(rateLimitSubject("2001:DB8:1:2::9"), "2001:db8:1:2::/64");
  assert.equal(rateLimitSubject("2001:0db8:0001:0002:ffff::"), "2001:db8:1:2::/64");
  assert.equal(rateLimitSubject("::1"), "0:0:0:0::/64");
  assert.notEqual(rateLimitSubject("2001:db8:1:3::9"), rateLimitSubject("2001:db8:1:2::9"));
  assert.equal(rateLimitSubject("unknown"), "unknown");
  assert.equal(rateLimitSubject("1:2:3"), "1:2:3");
});
