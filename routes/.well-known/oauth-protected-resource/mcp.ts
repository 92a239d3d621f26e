import { define } from "../../../utils.ts";
import { json } from "../../../lib/http/json.ts";
import { protectedResourceMetadata } from "../../../lib/mcp/http.ts";

/** RFC 9728 protected resource metadata of /mcp, named by its 401's WWW-Authenticate header. */
export const handler = define.handlers({
  GET(ctx) {
    return json(protectedResourceMetadata(ctx.state.services.config.publicUrl));
  },
});
