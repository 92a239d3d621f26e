import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Services } from "../services.ts";
import { bearerToken } from "../http/bearer.ts";
import { apiErrorResponse } from "../http/errors.ts";
import { Unauthorized } from "../errors.ts";
import { authenticateApiRequest } from "../api/auth.ts";
import { buildMcpServer } from "./server.ts";

/**
 * POST /mcp: the MCP Streamable HTTP transport in stateless mode: each request authenticates its
 * API key, gets a fresh server and transport, and leaves nothing behind, so any instance can
 * answer any request. Without sessions there is no server-to-client stream to resume (GET) and
 * nothing to end (DELETE): the route answers those 405, as the transport spec allows.
 */
export async function handleMcpRequest(services: Services, req: Request): Promise<Response> {
  let caller;
  try {
    caller = (await authenticateApiRequest(services, req)).caller;
  } catch (err) {
    if (!(err instanceof Unauthorized)) throw err;
    return unauthorized(services.config.publicUrl, err, bearerToken(req) !== null);
  }
  const server = buildMcpServer(services, caller);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    maxRequestBodySize: services.config.MAX_BODY_BYTES,
  });
  await server.connect(transport);
  return closeWhenAbandoned(await transport.handleRequest(req), () => transport.close());
}

/**
 * A client that goes away cancels the response stream; closing the transport then aborts its
 * tool handlers, so generate_video stops waiting for a reader that is gone. (The transport's own
 * stream cancel only drops its bookkeeping; req.signal would also fire on every success.)
 */
function closeWhenAbandoned(res: Response, close: () => Promise<void>): Response {
  if (!res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await close();
      await reader.cancel(reason);
    },
  });
  return new Response(body, res);
}

/** Where a client learns how to authenticate to /mcp (RFC 9728, as MCP authorization asks). */
export function protectedResourceMetadataUrl(publicUrl: string): string {
  return `${publicUrl}/.well-known/oauth-protected-resource/mcp`;
}

/** RFC 9728 metadata: the resource and that it takes a bearer key in the header (no OAuth). */
export function protectedResourceMetadata(publicUrl: string) {
  return {
    resource: `${publicUrl}/mcp`,
    resource_name: "Pipevideo",
    bearer_methods_supported: ["header"],
    resource_documentation: `${publicUrl}/docs/mcp`,
  };
}

/** 401 in the API's error shape with the WWW-Authenticate challenge MCP clients read. */
function unauthorized(publicUrl: string, err: Unauthorized, tokenSent: boolean): Response {
  const res = apiErrorResponse(err);
  // RFC 6750: an error code only when a token was sent; none when it was missing.
  const error = tokenSent
    ? `, error="invalid_token", error_description="${err.message.replaceAll('"', "'")}"`
    : "";
  res.headers.set(
    "WWW-Authenticate",
    `Bearer realm="pipevideo", resource_metadata="${protectedResourceMetadataUrl(publicUrl)}"` +
      error,
  );
  return res;
}
