import { loadConfig } from "./lib/config.ts";
import { createServices } from "./lib/services.ts";
import { createPipevideoApp } from "./lib/app.ts";
import { startBackground } from "./lib/background.ts";

/** `deno task start`: validates the environment, builds the islands, starts the workers, serves. */
export async function start() {
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(1);
  }
  const services = await createServices(config);
  const app = createPipevideoApp(services);
  await app.build();
  startBackground(services);
  Deno.serve({
    port: config.PORT,
    onListen: ({ port }) => {
      services.log("info", "listening", { url: `http://localhost:${port}`, env: config.APP_ENV });
    },
  }, app.handler);
}

if (import.meta.main) await start();
