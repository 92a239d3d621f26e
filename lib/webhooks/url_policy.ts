import ipaddr from "ipaddr.js";
import { isPrivateAddress, OutboundRequestError } from "../net/ssrf.ts";

/**
 * The submission-time check of a per-request `webhook_url`. POST /v1/video/generations never waits
 * on the network, so this looks at the URL alone: a target that can never be delivered to is
 * refused up front instead of failing a day of retries later. Delivery still resolves the host
 * and refuses private addresses (lib/net/ssrf.ts), which catches names pointing inward.
 */
export function assertWebhookUrlAcceptable(
  url: string,
  opts: { allowPrivate: boolean; param?: string },
): void {
  const param = opts.param ?? "webhook_url";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundRequestError("unsupported_url", `${param} is not a valid URL`, param);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new OutboundRequestError(
      "unsupported_url",
      `${param} must be an http or https URL`,
      param,
    );
  }
  if (opts.allowPrivate) return;
  // URL has already turned odd IPv4 spellings (2130706433, 0x7f.1) into dotted quads.
  const host = parsed.hostname.replace(/\.$/, "").toLowerCase();
  const literal = host.replace(/^\[(.*)\]$/, "$1");
  const loopbackName = host === "localhost" || host.endsWith(".localhost"); // RFC 6761
  if (loopbackName || (ipaddr.isValid(literal) && isPrivateAddress(literal))) {
    throw new OutboundRequestError(
      "unsafe_url",
      `${param} host ${parsed.hostname} is not allowed: webhooks must go to a public address`,
      param,
    );
  }
}
