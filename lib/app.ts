import { createApp } from "fresh";
import manifest from "../manifest.gen.ts";
import type { Services } from "./services.ts";
import type { State } from "../utils.ts";
import { fromFileUrl } from "./fresh/paths.ts";

/** The whole web app for a set of services: main.ts serves it, tests call it over real HTTP. */
export function createPipevideoApp(services: Services) {
  return createApp<State>({
    manifest,
    staticDir: fromFileUrl(new URL("../static", import.meta.url)),
    state: () => ({ services, requestId: "" }),
  });
}
