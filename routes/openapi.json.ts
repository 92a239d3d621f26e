import { define } from "../utils.ts";
import { buildOpenApiDocument } from "../lib/openapi.ts";
import { json } from "../lib/http/json.ts";

/** The OpenAPI 3.1 document of /v1, for this server's PUBLIC_URL. Public, like /docs. */
export const handler = define.handlers({
  GET(ctx) {
    return json(buildOpenApiDocument(ctx.state.services.config.publicUrl), {
      headers: { "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*" },
    });
  },
});
