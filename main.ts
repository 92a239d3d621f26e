import { listenHostname, loadConfig } from "./lib/config.ts";
import { createServices } from "./lib/services.ts";
import { createPipevideoApp } from "./lib/app.ts";
import { startBackground } from "./lib/background.ts";
import { boundsOf, serveApp } from "./lib/http/serve.ts";

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
  if (!Deno.env.get("APP_ENV")) {
    services.log(
      "warn",
      "APP_ENV is not set: running in development mode, with development " +
        "sign-in and credits. Set APP_ENV=production on a server others can reach.",
    );
  }
  const app = createPipevideoApp(services);
  await app.build();
  const background = startBackground(services);
  const hostname = listenHostname(config);
  const server = await serveApp(app.handler, {
    port: config.PORT,
    hostname,
    bounds: boundsOf(config, hostname),
  });
  services.log("info", "listening", {
    url: `http://localhost:${server.addr.port}`,
    env: config.APP_ENV,
  });
  if (!config.production && !config.HOST) {
    services.log(
      "warn",
      `${config.APP_ENV} mode: listening on ${hostname} only; set HOST to listen elsewhere`,
    );
  }

  // On SIGTERM/SIGINT: finish in-flight requests, stop taking jobs, flush logs, then exit.
  const stop = async (signal: Deno.Signal) => {
    services.log("info", "shutting down", { signal });
    await server.shutdown();
    services.kv.close();
    await background.catch(() => {});
    globalThis.dispatchEvent(new Event("unload"));
    Deno.exit(0);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
}

if (import.meta.main) await start();
