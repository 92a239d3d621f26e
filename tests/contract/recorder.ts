/**
 * A loopback recorder for side-by-side checks: captures every request (method, path, headers,
 * body) and answers each with what `reply` returns, so both our adapter and the official SDK
 * can be pointed at it for the same input and their requests compared.
 */
export interface Captured {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

export interface Recorder extends AsyncDisposable {
  url: string;
  requests: Captured[];
  /** Forgets what was captured so far. */
  take(): Captured[];
}

export function recorder(reply: (req: Captured) => unknown): Recorder {
  const requests: Captured[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const text = await req.text();
    let body: unknown = undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const captured = {
      method: req.method,
      path: url.pathname + url.search,
      headers: req.headers,
      body,
    };
    requests.push(captured);
    const out = reply(captured);
    return out === null
      ? new Response(null, { status: 204 })
      : Response.json(out, { status: req.method === "POST" ? 201 : 200 });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    take: () => requests.splice(0),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A fetch that sends every request to the recorder instead of the SDK's fixed host. */
export function redirectTo(base: string): typeof fetch {
  return (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    return fetch(new Request(`${base}${url.pathname}${url.search}`, req));
  };
}

/** What the comparison looks at: telemetry and transport headers aside. */
export function essentials(c: Captured, authHeader: string) {
  return { method: c.method, path: c.path, auth: c.headers.get(authHeader), body: c.body };
}
