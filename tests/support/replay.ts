/**
 * A replay server for adapter tests: a real HTTP server on 127.0.0.1 that answers a script of
 * recorded provider responses in order and records what the adapter sent, so a test checks
 * both directions of the conversation.
 */
import assert from "node:assert/strict";
import type { ProviderDeps } from "../../lib/providers/types.ts";

export interface Recorded {
  method: string;
  path: string; // pathname + search
  headers: Headers;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

export interface Exchange {
  /** What the adapter must send. */
  method: string;
  path: string;
  /** The reply; `json` is serialized, `{base}` in strings is replaced by the server's URL. */
  status?: number;
  json?: unknown;
  text?: string;
  /** Raw bytes (a video file, an image), sent as they are. */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

export interface ReplayServer extends AsyncDisposable {
  /** The server's base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Every request received, in order. */
  requests: Recorded[];
  /** Deps pointing an adapter at this server; env names the provider's variables. */
  deps(env: ProviderDeps["env"]): ProviderDeps & { now: () => number };
  /** Asserts the whole script was used and nothing unexpected arrived. */
  assertDone(): void;
  close(): Promise<void>;
}

/** A fixed clock for tests: 2026-11-27T12:00:00Z. */
export const TEST_NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

/** Starts the server with the script; dispose it (`await using`) to close it. */
export function replay(script: Exchange[]): ReplayServer {
  const requests: Recorded[] = [];
  const mismatches: string[] = [];
  let next = 0;
  let base = "";

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const body = await req.text();
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const path = url.pathname + url.search;
      requests.push({ method: req.method, path, headers: req.headers, body, json });
      const step = script[next];
      if (!step || step.method !== req.method || step.path !== path) {
        const want = step ? `${step.method} ${step.path}` : "nothing";
        mismatches.push(`#${next}: got ${req.method} ${path}, want ${want}`);
        return new Response("unexpected request", { status: 418 });
      }
      next++;
      const fill = (s: string) => s.replaceAll("{base}", base);
      const headers = new Headers(step.headers ?? {});
      let payload: string | Uint8Array<ArrayBuffer> | null = null;
      if (step.json !== undefined) {
        payload = fill(JSON.stringify(step.json));
        if (!headers.has("content-type")) headers.set("content-type", "application/json");
      } else if (step.text !== undefined) {
        payload = fill(step.text);
      } else if (step.bytes !== undefined) {
        payload = step.bytes.slice();
      }
      return new Response(payload, { status: step.status ?? 200, headers });
    },
  );
  base = `http://127.0.0.1:${server.addr.port}`;

  const close = async () => {
    await server.shutdown();
  };
  return {
    url: base,
    requests,
    deps: (env) => ({ fetch, env, workDir: "/nonexistent", now: () => TEST_NOW }),
    assertDone() {
      assert.deepEqual(mismatches, [], "the adapter sent unexpected requests");
      assert.equal(next, script.length, `only ${next} of ${script.length} scripted requests came`);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Loads a fixture from ./fixtures by name (recorded provider responses). */
export async function fixture<T = Record<string, unknown>>(name: string): Promise<T> {
  const url = new URL(`./recorded/${name}.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)) as T;
}
