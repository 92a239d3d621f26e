import { define } from "../utils.ts";
import { handleMcpRequest } from "../lib/mcp/http.ts";

/** The MCP endpoint (Streamable HTTP, stateless): the /v1 API as tools, same keys and limits. */
export const handler = define.handlers({
  POST(ctx) {
    return handleMcpRequest(ctx.state.services, ctx.req);
  },
});
