import { authenticateKey } from "../db/apikeys.ts";
import { bearerToken } from "../http/bearer.ts";
import { Unauthorized } from "../errors.ts";
import type { Services } from "../services.ts";

/** Who called: the API key and its organization, the same on /v1, /v1/videos and /mcp. */
export interface ApiCaller {
  keyId: string;
  orgId: string;
}

/**
 * The edge's key check, shared by every surface: `Authorization: Bearer pv_…`, looked up by
 * authenticateKey (the one key lookup; this module only reads the header). `alsoRead` are records read in the same
 * KV round trip (the poll path's generation). Throws Unauthorized; `tokenSent` tells a missing
 * key from a bad one (MCP's WWW-Authenticate differs).
 */
export async function authenticateApiRequest(
  services: Pick<Services, "kv" | "now">,
  req: Request,
  opts: { alsoRead?: Deno.KvKey[] } = {},
): Promise<{ caller: ApiCaller; also: Deno.KvEntryMaybe<unknown>[] }> {
  const secret = bearerToken(req);
  if (!secret) throw new Unauthorized("Missing API key: send Authorization: Bearer pv_…");
  const { key, also } = await authenticateKey(services.kv, secret, services.now(), opts);
  return { caller: { keyId: key.id, orgId: key.org_id }, also };
}

/**
 * The caller of a /v1 route, as routes/v1/_middleware.ts set it: typed, so routes need no `!`.
 * A route reached without the middleware is a wiring bug, never an anonymous call.
 */
export function callerOf(state: { apiKey?: { id: string; orgId: string } }): ApiCaller {
  if (!state.apiKey) throw new Error("a /v1 route ran without the API-key middleware");
  return { keyId: state.apiKey.id, orgId: state.apiKey.orgId };
}
