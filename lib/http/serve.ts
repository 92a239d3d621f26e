import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * Serves the app with bounds on slow clients. Deno.serve (Deno 2.9) has no header or body read
 * timeout and no hook per connection, so a client trickling a byte a second holds a connection
 * for ever (40 such clients held 40). Node's HTTP server has both, `headersTimeout` and
 * `requestTimeout`, and Deno's node:http enforces them; so with bounds the app is served through
 * node:http: a connection whose headers, or whole request, are not in by the bound is answered
 * 408 and closed (checked every CHECK_MS at most). It costs throughput (node:http is slower than
 * Deno.serve): `null` bounds (REQUEST_TIMEOUT_SECONDS=0, for a reverse proxy that enforces its
 * own) serve with Deno.serve.
 *
 * The handler gets real fetch Requests (our middleware builds new ones from them, which WebIDL
 * allows only for real ones: @hono/node-server's lightweight requests failed there).
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
const SHUTDOWN_GRACE_MS = 10_000;

export function boundsOf(
  config: { REQUEST_HEADERS_TIMEOUT_SECONDS: number; REQUEST_TIMEOUT_SECONDS?: number },
  hostname: string,
): SlowClientBounds | null {
  // Unset: bounded wherever others can connect; on loopback only this machine can, and Deno.serve
  // (about twice node:http's throughput on small requests) serves it.
  const total = config.REQUEST_TIMEOUT_SECONDS ?? (isLoopback(hostname) ? 0 : 60);
  if (total === 0) return null;
  return {
    headersTimeoutMs: Math.round(config.REQUEST_HEADERS_TIMEOUT_SECONDS * 1000),
    requestTimeoutMs: Math.round(total * 1000),
  };
}

const isLoopback = (hostname: string) =>
  hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");

export async function serveApp(
  handler: AppHandler,
  opts: { port: number; hostname: string; bounds: SlowClientBounds | null },
): Promise<Serving> {
  if (!opts.bounds) {
    const server = Deno.serve({ port: opts.port, hostname: opts.hostname, onListen() {} }, handler);
    return { addr: server.addr, shutdown: () => server.shutdown() };
  }
  const { headersTimeoutMs, requestTimeoutMs } = opts.bounds;
  // Requests in progress per connection: Deno's node:http does not close idle keep-alive
  // connections on close()/closeIdleConnections(), so shutdown does it from this count.
  const active = new Map<Socket, number>();
  let closing = false;
  const server = createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(CHECK_MS, headersTimeoutMs / 2),
  }, (incoming, outgoing) => {
    const socket = incoming.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    outgoing.once("close", () => {
      const left = (active.get(socket) ?? 1) - 1;
      active.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
    respond(handler, incoming, outgoing).catch(() => outgoing.destroy());
  });
  server.on("connection", (socket: Socket) => {
    active.set(socket, 0);
    socket.once("close", () => active.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    addr: { hostname: opts.hostname, port },
    shutdown: () =>
      new Promise<void>((resolve) => {
        // Requests in flight finish (their connection closes then); idle connections close at
        // once; whatever is still open after SHUTDOWN_GRACE_MS is closed.
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        for (const [socket, n] of active) if (n === 0) socket.destroy();
      }),
  };
}

async function respond(handler: AppHandler, incoming: IncomingMessage, outgoing: ServerResponse) {
  const socket = incoming.socket;
  const aborted = new AbortController();
  // A response sent before its request's body was read (a 401, a 413): the rest is read and
  // dropped, as node does itself, so the client can finish sending and read the answer.
  outgoing.once("finish", () => {
    if (!incoming.complete) drain(incoming);
  });
  const completed = new Promise<void>((resolve) =>
    outgoing.once("close", () => {
      if (!outgoing.writableFinished) aborted.abort();
      resolve();
    })
  );
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  // As Deno.serve: a request without Content-Length or Transfer-Encoding has no body (null).
  const hasBody = headers.has("content-length") || headers.has("transfer-encoding");
  let req: Request;
  try {
    req = new Request(
      new URL(incoming.url ?? "/", `http://${headers.get("host") || "localhost"}`),
      {
        method: incoming.method,
        headers,
        body: hasBody ? bodyOf(incoming) : null,
        signal: aborted.signal,
        duplex: "half",
      } as RequestInit,
    );
  } catch {
    outgoing.writeHead(400, { "content-type": "text/plain" }).end("Bad request");
    return;
  }
  const res = await handler(req, {
    remoteAddr: {
      transport: "tcp",
      // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
      hostname: (socket.remoteAddress ?? "").replace(/^::ffff:(?=\d+\.)/, ""),
      port: socket.remotePort ?? 0,
    },
    completed,
  });
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of res.headers) if (name !== "set-cookie") out[name] = value;
  const cookies = res.headers.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies;
  outgoing.writeHead(res.status, out);
  if (!res.body) {
    outgoing.end();
    return;
  }
  const reader = res.body.getReader();
  aborted.signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!outgoing.write(value)) {
      await new Promise((resolve) => {
        outgoing.once("drain", resolve);
        outgoing.once("close", resolve);
      });
    }
    if (outgoing.destroyed) return;
  }
  outgoing.end();
}

/** Requests whose unread body is being read and dropped. */
const dropping = new WeakSet<IncomingMessage>();

/** The request body as a fetch stream, read from the socket only as fast as the app reads it. */
function bodyOf(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      incoming.pause();
      incoming.on("data", (chunk: Uint8Array) => {
        if (dropping.has(incoming)) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) incoming.pause();
      });
      incoming.once("end", () => dropping.has(incoming) || controller.close());
      incoming.once("close", () => {
        if (!incoming.complete && !dropping.has(incoming)) {
          controller.error(new Error("the client closed the request"));
        }
      });
    },
    pull() {
      incoming.resume();
    },
    cancel() {
      drain(incoming);
    },
  });
}

function drain(incoming: IncomingMessage) {
  dropping.add(incoming);
  incoming.resume();
}
