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

export function clientAddress(req: Request, info: Deno.ServeHandlerInfo): ClientAddress {
  const peer = info.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : "unknown";
  const relayed = FORWARDING_HEADERS.some((h) => req.headers.has(h));
  return { ip: peer, local: !relayed && isLoopbackIp(peer) };
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
