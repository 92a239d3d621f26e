import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";

/**
 * Serves the app with bounds on slow clients. Deno.serve (Deno 2.9) has no header or body read
 * timeout, so a client trickling a byte a second holds a connection for ever (40 such clients
 * held 40 connections). Node's HTTP server has both, `headersTimeout` and `requestTimeout`, and
 * Deno's node:http enforces them; so with bounds the app is served through node:http, with
 * @hono/node-server turning its messages into fetch Requests and back. A connection whose
 * headers, or whole request, are not in by the bound is answered 408 and closed (checked every
 * CHECK_MS at most). It costs throughput (node:http is slower than Deno.serve): `null` bounds
 * (REQUEST_TIMEOUT_SECONDS=0, for a reverse proxy that enforces its own) serve with Deno.serve.
 */
export interface SlowClientBounds {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export type AppHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

export interface Serving {
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
}

const CHECK_MS = 1000;

export function boundsOf(config: {
  REQUEST_HEADERS_TIMEOUT_SECONDS: number;
  REQUEST_TIMEOUT_SECONDS: number;
}): SlowClientBounds | null {
  if (config.REQUEST_TIMEOUT_SECONDS === 0) return null;
  return {
    headersTimeoutMs: Math.round(config.REQUEST_HEADERS_TIMEOUT_SECONDS * 1000),
    requestTimeoutMs: Math.round(config.REQUEST_TIMEOUT_SECONDS * 1000),
  };
}

export async function serveApp(
  handler: AppHandler,
  opts: { port: number; hostname: string; bounds: SlowClientBounds | null },
): Promise<Serving> {
  if (!opts.bounds) {
    const server = Deno.serve({ port: opts.port, hostname: opts.hostname, onListen() {} }, handler);
    return { addr: server.addr, shutdown: () => server.shutdown() };
  }
  const { headersTimeoutMs, requestTimeoutMs } = opts.bounds;
  const listener = getRequestListener((req, { incoming, outgoing }) => {
    const socket = incoming.socket;
    return handler(req, {
      remoteAddr: {
        transport: "tcp",
        // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
        hostname: (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.)/, ""),
        port: socket.remotePort ?? 0,
      },
      completed: new Promise<void>((resolve) => outgoing.once("close", resolve)),
    });
  }, { overrideGlobalObjects: false });
  const server = createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(CHECK_MS, headersTimeoutMs / 2),
  }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    addr: { hostname: opts.hostname, port },
    shutdown: () =>
      new Promise<void>((resolve) => {
        // Finishes requests in flight; idle keep-alive connections close at once.
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
