import { define } from "../utils.ts";
import { buildOpenApiDocument } from "../lib/openapi.ts";
import { fileResponse, type StaticFile, staticFile } from "../lib/fresh/static.ts";

// The document depends only on PUBLIC_URL: built (and compressed) once per value.
const documents = new Map<string, StaticFile>();

/** The OpenAPI 3.1 document of /v1, for this server's PUBLIC_URL. Public, like /docs. */
export const handler = define.handlers({
  async GET(ctx) {
    const { publicUrl } = ctx.state.services.config;
    let file = documents.get(publicUrl);
    if (!file) {
      const body = new TextEncoder().encode(JSON.stringify(buildOpenApiDocument(publicUrl)));
      file = await staticFile(body, "application/json; charset=utf-8");
      documents.set(publicUrl, file);
    }
    const res = fileResponse(ctx.req, file, "public, max-age=300");
    res.headers.set("Access-Control-Allow-Origin", "*");
    return res;
  },
});
