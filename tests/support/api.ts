/** Small factories and an HTTP helper shared by the tests/http/api_* tests. */
import type { Services } from "../../lib/services.ts";
import { createOrg } from "../../lib/db/orgs.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { creditOrg, type LedgerEntry, listLedger } from "../../lib/db/ledger.ts";

export interface TestOrg {
  orgId: string;
  keyId: string;
  key: string;
}

/** An org with one API key and `cents` of credit (a topup, so the ledger explains it). */
export async function fundedOrg(
  services: Services,
  cents = 0,
  name = "Test org",
): Promise<TestOrg> {
  const org = await createOrg(services.kv, { name });
  const { id, key } = await createApiKey(services.kv, org.id, { name: "test key" });
  if (cents > 0) await creditOrg(services.kv, org.id, cents, { kind: "topup", reason: "test" });
  return { orgId: org.id, keyId: id, key };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Calls the API over HTTP and reads the whole body (JSON when it is JSON). */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; rawBody?: BodyInit; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers = new Headers(opts.headers);
  if (opts.key) headers.set("Authorization", `Bearer ${opts.key}`);
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers.set("Content-Type", "application/json");
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  const isJson = res.headers.get("Content-Type")?.includes("application/json");
  return {
    status: res.status,
    headers: res.headers,
    body: isJson && text ? JSON.parse(text) : text,
  };
}

/** Every ledger entry of an org, newest first. */
/** `call` with a key, a JSON body and, when given, an Idempotency-Key (the multi-instance tests). */
export function callWithKey(
  baseUrl: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<ApiResponse> {
  const headers = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : undefined;
  return call(baseUrl, method, path, { key, body, headers });
}

/** Runs `fn` over `items`, `width` at a time. */
export async function pool<T>(
  items: T[],
  width: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

export async function allLedger(services: Services, orgId: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await listLedger(services.kv, orgId, { limit: 200, cursor });
    out.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
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
