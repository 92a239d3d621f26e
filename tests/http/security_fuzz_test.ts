/**
 * A seeded fuzz over every route of the manifest: method × path (params filled with hostile
 * values) × body shape × credentials. Nothing may answer 5xx or log an error or a stack trace.
 * The seed is printed on failure; FUZZ_SEED=<n> replays a run.
 */
import assert from "node:assert/strict";
import manifest from "../../manifest.gen.ts";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { fundedOrg } from "../support/api.ts";

const REQUESTS = 300;
const ADMIN = "admin-token-0123456789abcdef";

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** "/keys/:id/revoke"-style patterns for every route file (not _app, _middleware, …). */
function routePatterns(): string[] {
  return Object.keys(manifest.routes)
    .filter((f) => !f.split("/").pop()!.startsWith("_"))
    .map((f) =>
      "/" + f.replace(/^\.\/routes\//, "").replace(/\.(tsx?|jsx?)$/, "").split("/")
        .filter((p) => !/^\(.*\)$/.test(p) && p !== "index")
        .map((p) => p.replace(/^\[\.\.\.(\w+)\]$/, ":$1*").replace(/^\[(\w+)\]$/, ":$1"))
        .join("/")
    );
}

Deno.test("fuzz: every route × method × body shape × credentials answers below 500, logs no error", async () => {
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20261129);
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const server = await startTestServer({
    ADMIN_TOKEN: ADMIN,
    GITHUB_CLIENT_ID: "cid",
    GITHUB_CLIENT_SECRET: "cs",
    RATE_LIMIT_PER_MINUTE: "100000",
  });
  try {
    const user = await signIn(server, { role: "owner" });
    const { key, orgId, keyId } = await fundedOrg(server.services, 0);
    const params = [
      "",
      "a",
      "x".repeat(3000),
      "gen_01ARZ3NDEKTSV4RRFFQ69G5FAV",
      `gen_${"Z".repeat(26)}`,
      orgId,
      keyId,
      "whe_01ARZ3NDEKTSV4RRFFQ69G5FAV",
      "%00",
      "..%2F..%2Fetc%2Fpasswd",
      "%E0%A4%A",
      "constructor",
      "__proto__",
      "%F0%9F%98%80",
      "github",
      "local%2Fpreview",
      "a.mp4",
    ];
    const queries = [
      "",
      "?m=constructor",
      "?cursor=%FF%FE&limit=-1",
      "?limit=100000&status=weird",
      "?next=//evil.example&model=$`$'",
      `?token=${"f".repeat(64)}`,
      "?exp=1&sig=zz",
      `?cursor=${"A".repeat(3000)}`,
    ];
    const fields = [
      "model",
      "models",
      "prompt",
      "duration",
      "metadata",
      "webhook_url",
      "name",
      "url",
      "email",
      "role",
      "intent",
      "amount_cents",
      "reason",
      "token",
      "id",
      "user_id",
      "invite_id",
      "delivery_id",
      "org_id",
      "enabled",
      "limit_cents",
      "expires_at",
      "next",
      "action",
    ];
    const values = (): unknown =>
      pick([
        "",
        "x",
        "local/preview",
        "x".repeat(5000),
        -1,
        0,
        1e308,
        3.5,
        true,
        null,
        [],
        {},
        ["local/preview"],
        { a: "\u0000" },
        "http://127.0.0.1/",
        "javascript:alert(1)",
        "constructor",
        "\u202e\n\r",
      ]);
    const jsonObject = () =>
      Object.fromEntries(
        Array.from({ length: 1 + Math.floor(rand() * 5) }, () => [pick(fields), values()]),
      );
    const bodies: (() => { body?: string; type?: string })[] = [
      () => ({}),
      () => ({ body: JSON.stringify(jsonObject()), type: "application/json" }),
      () => ({ body: JSON.stringify(jsonObject()), type: "application/x-www-form-urlencoded" }),
      () => ({
        body: new URLSearchParams(
          Object.entries(jsonObject()).map(([k, v]) => [k, String(v)]),
        ).toString(),
        type: "application/x-www-form-urlencoded",
      }),
      () => ({ body: '{"model": "local/preview",', type: "application/json" }),
      () => ({ body: "[]", type: "application/json" }),
      () => ({ body: "null", type: "application/json" }),
      () => ({ body: "[".repeat(5000) + "]".repeat(5000), type: "application/json" }),
      () => ({ body: "x".repeat(200_000), type: "text/plain" }),
      () => ({
        body: "--b\r\nContent-Disposition: form-data\r\n\r\nx",
        type: "multipart/form-data; boundary=b",
      }),
      () => ({ body: "%%%&&&===", type: "application/x-www-form-urlencoded" }),
    ];
    const creds: Record<string, string>[] = [
      {},
      user.headers,
      { Authorization: `Bearer ${key}` },
      { Authorization: `Bearer ${ADMIN}` },
      { Authorization: "Bearer pv_" + "0".repeat(48) },
      { Cookie: "pv_session=" + "0".repeat(64), "Sec-Fetch-Site": "same-origin" },
    ];
    const methods = ["GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    const patterns = routePatterns();
    // The credentials a route's own users hold, so requests get past authentication.
    const ownCreds = (pattern: string) =>
      pattern.startsWith("/admin/") ? creds[3] : pattern.startsWith("/v1/") ? creds[2] : creds[1];
    // First every hostile id in every route with an id, with GET and POST under its own
    // credentials; then routes, methods, bodies and credentials at random.
    // Plain and well-formed apart from the id, so the id is what the route has to cope with.
    const plainBody = (pattern: string) =>
      pattern.startsWith("/admin/") || pattern.startsWith("/v1/")
        ? { body: '{"name":"k","amount_cents":5,"reason":"fuzz"}', type: "application/json" }
        : { body: "", type: "application/x-www-form-urlencoded" };
    interface Step {
      path: string;
      method: string;
      headers: Record<string, string>;
      query?: string;
      payload?: { body?: string; type?: string };
    }
    const plan: Step[] = [];
    for (const pattern of patterns.filter((p) => p.includes(":"))) {
      for (const value of params) {
        for (const method of ["GET", "POST"]) {
          plan.push({
            path: pattern.replace(/:\w+\*?/g, () => value),
            method,
            headers: ownCreds(pattern),
            query: "",
            payload: method === "POST" ? plainBody(pattern) : {},
          });
        }
      }
    }
    for (let i = 0; i < REQUESTS; i++) {
      const pattern = i < patterns.length ? patterns[i] : pick(patterns);
      plan.push({
        path: pattern.replace(/:\w+\*?/g, () => pick(params)) || "/",
        method: pick(methods),
        headers: pick(creds),
      });
    }
    const failures: string[] = [];
    for (const step of plan) {
      const { path, method } = step;
      const { body, type } = step.payload ??
        (method === "GET" || method === "HEAD" ? {} : pick(bodies)());
      const headers: Record<string, string> = { ...step.headers };
      if (type) headers["Content-Type"] = type;
      const url = server.url + path + (step.query ?? pick(queries));
      let status: number;
      try {
        const res = await fetch(url, { method, headers, body, redirect: "manual" });
        await res.body?.cancel();
        status = res.status;
      } catch (err) {
        failures.push(`${method} ${url.slice(0, 120)}: ${err}`);
        continue;
      }
      if (status >= 500) failures.push(`${status} ${method} ${url.slice(0, 120)} ${type ?? ""}`);
    }
    const errors = server.logs.filter((l) => l.level === "error");
    const stacks = server.logs.filter((l) => /\bat .*\.(ts|tsx|js):\d+/.test(JSON.stringify(l)));
    assert.deepEqual(failures.slice(0, 10), [], `seed ${seed}`);
    assert.deepEqual(errors.slice(0, 5), [], `seed ${seed}`);
    assert.deepEqual(stacks.slice(0, 5), [], `seed ${seed}`);
  } finally {
    await server.close();
  }
});
