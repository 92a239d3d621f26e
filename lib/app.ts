import { createApp } from "fresh";
import manifest from "../manifest.gen.ts";
import type { Services } from "./services.ts";
import type { State } from "../utils.ts";
import { fromFileUrl } from "./fresh/paths.ts";
import { BUILD_PREFIX } from "./fresh/islands.ts";
import { applySecurityHeaders, usesHsts } from "./http/security.ts";

/** The whole web app for a set of services: main.ts serves it, tests call it over real HTTP. */
export function createPipevideoApp(services: Services) {
  const app = createApp<State>({
    manifest,
    staticDir: fromFileUrl(new URL("../static", import.meta.url)),
    state: () => ({ services, requestId: "" }),
  });
  const hsts = usesHsts(services.config);
  return {
    ...app,
    // Island bundles are answered before the middleware chain: they get the same headers here.
    handler(req: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
      const res = app.handler(req, info);
      return req.url.includes(BUILD_PREFIX)
        ? res.then((r) => applySecurityHeaders(r, {}, hsts))
        : res;
    },
  };
}
