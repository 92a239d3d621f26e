/**
 * Who is on the other end of a request: the address to rate-limit by, and whether the request
 * comes from this machine (a development convenience may be offered only then).
 */
export interface ClientAddress {
  /** The client's IP, or "unknown" (not TCP). */
  ip: string;
  /** From a loopback address and not relayed by a proxy. */
  local: boolean;
}

// Headers a reverse proxy adds: a request carrying one came from somewhere else.
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

/**
 * With `trustedProxyHops` = N > 0 (config TRUSTED_PROXY), the N proxies nearest the app are
 * trusted to append to X-Forwarded-For: the client is the entry N hops from the right of
 * [...X-Forwarded-For, peer]. Entries further left are whatever the client sent and are ignored,
 * so a made-up X-Forwarded-For cannot pick another address. With N = 0 the header is ignored.
 */
export function clientAddress(
  req: Request,
  info: Deno.ServeHandlerInfo,
  trustedProxyHops = 0,
): ClientAddress {
  const peer = info.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : "unknown";
  const forwardedFor = req.headers.get("x-forwarded-for");
  if (trustedProxyHops > 0 && forwardedFor !== null) {
    const chain = [...forwardedFor.split(",").map(cleanAddress), peer];
    const at = Math.max(0, chain.length - 1 - trustedProxyHops);
    const hops = chain.slice(at);
    return { ip: hops[0] || "unknown", local: hops.every(isLoopbackIp) };
  }
  const relayed = FORWARDING_HEADERS.some((h) => req.headers.has(h));
  return { ip: peer, local: !relayed && isLoopbackIp(peer) };
}

/** An X-Forwarded-For entry without port or brackets ("[::1]:80" -> "::1"), at most 64 chars. */
function cleanAddress(entry: string): string {
  const e = entry.trim();
  const bracketed = e.match(/^\[([0-9a-fA-F:.]+)\](?::\d+)?$/);
  if (bracketed) return bracketed[1];
  const v4port = e.match(/^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/);
  if (v4port) return v4port[1];
  return e.slice(0, 64);
}

/**
 * The subject a per-address limit counts: an IPv4 address as is, an IPv6 address by its /64
 * (one customer usually holds a whole /64, so counting single addresses would not limit them).
 */
export function rateLimitSubject(ip: string): string {
  const bare = ip.toLowerCase();
  if (!bare.includes(":")) return bare;
  const mapped = bare.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (mapped) return mapped[1];
  const groups = expandIpv6(bare);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : bare;
}

function expandIpv6(ip: string): string[] | null {
  if (!/^[0-9a-f:.]+$/.test(ip)) return null;
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const part = (s: string) => s ? s.split(":") : [];
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x (::ffff:127.0.0.1). */
export function isLoopbackIp(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  const v4 = bare.startsWith("::ffff:") ? bare.slice(7) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** A URL host that only this machine reaches: localhost, 127.x.x.x or [::1]. */
export function isLoopbackUrl(url: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  return hostname === "localhost" || isLoopbackIp(hostname);
}
