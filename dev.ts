import { writeManifest } from "./lib/fresh/manifest.ts";
import { fromFileUrl } from "./lib/fresh/paths.ts";

/**
 * `deno task dev`: regenerates the route manifest, then serves (restarted by --watch on change).
 * `deno task build` (`dev.ts build`): regenerates the manifest only.
 */
const root = fromFileUrl(new URL(".", import.meta.url));
if (await writeManifest(root)) console.log("manifest.gen.ts updated");
if (Deno.args[0] !== "build") await (await import("./main.ts")).start();
