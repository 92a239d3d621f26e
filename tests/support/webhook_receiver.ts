/** Helpers for the webhook HTTP and browser tests: a real receiver and dashboard form posts. */
import type { TestServer } from "./server.ts";

export interface Received {
  path: string;
  headers: Headers;
  body: string;
}

/**
 * A real webhook receiver on 127.0.0.1. `statuses` are answered in turn (the last repeats).
 * `waitFor(n)` polls until n requests arrived, with a deadline.
 */
export function startReceiver(statuses: number[] = [200]) {
  const received: Received[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    received.push({
      path: new URL(req.url).pathname,
      headers: req.headers,
      body: await req.text(),
    });
    const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
    return new Response(status < 300 ? "ok" : "try later", { status });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    received,
    async waitFor(n: number, timeoutMs = 20_000, path?: string): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      const matching = () => received.filter((r) => path === undefined || r.path === path);
      while (matching().length < n) {
        if (Date.now() > deadline) {
          throw new Error(`receiver: ${matching().length} of ${n} requests to ${path ?? "*"}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return matching();
    },
    close: () => server.shutdown(),
  };
}

/** POSTs a dashboard form as a same-origin browser would; does not follow redirects. */
export async function postForm(
  server: TestServer,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string>,
): Promise<{ status: number; html: string; location: string | null }> {
  const res = await fetch(server.url + path, {
    method: "POST",
    headers: {
      ...headers,
      Origin: server.url,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
  return { status: res.status, html: await res.text(), location: res.headers.get("location") };
}

export async function getPage(
  server: TestServer,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; html: string }> {
  const res = await fetch(server.url + path, { headers, redirect: "manual" });
  return { status: res.status, html: await res.text() };
}

/** The secret the page shows once (the WebhookSecret island's input). */
export function shownSecret(html: string): string | null {
  return /value="(whsec_[A-Za-z0-9+/=]+)"/.exec(html)?.[1] ?? null;
}

/** Polls `fn` until it returns something other than undefined, failing after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
