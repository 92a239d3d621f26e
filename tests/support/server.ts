import { testConfig } from "../../lib/config.ts";
import { createServices, type Services } from "../../lib/services.ts";
import { createPipevideoApp } from "../../lib/app.ts";
import { startBackground } from "../../lib/background.ts";

export interface TestServer {
  url: string;
  services: Services;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * The real app on a real port with an in-memory KV and a temporary data dir; with
 * `background: true` the queue workers run too, so generations go all the way through.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  overrides: Partial<Omit<Services, "config">> = {},
  opts: { background?: boolean } = {},
): Promise<TestServer> {
  const config = testConfig(env);
  const logs: Record<string, unknown>[] = [];
  const services = await createServices(config, {
    log: (level, msg, fields) => logs.push({ level, msg, ...fields }),
    ...overrides,
  });
  const app = createPipevideoApp(services);
  // Queue workers run as in production; the minute sweeps are called directly by tests.
  const background = opts.background ? startBackground(services, { cron: false }) : null;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    services,
    logs,
    async close() {
      await server.shutdown();
      services.kv.close();
      await background;
      await Deno.remove(config.DATA_DIR, { recursive: true }).catch(() => {});
    },
  };
}

/** POSTs `form` urlencoded to `path` as a browser form would, not following redirects. */
export function postForm(
  server: TestServer,
  path: string,
  headers: Record<string, string>,
  form: Record<string, string>,
) {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
}
