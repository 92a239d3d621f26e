import { boundsOf } from "./http/serve.ts";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { CONFIG_VARIABLES, ConfigError, parseEnv } from "./config.ts";

const root = new URL("../", import.meta.url);
// Engineer "storage" adds these to lib/config.ts in parallel; until that merges, they are known
// here by name. Remove this list once CONFIG_VARIABLES has them.
const STORAGE_VARIABLES = [
  "STORAGE",
  "S3_ENDPOINT",
  "S3_REGION",
  "S3_BUCKET",
  "S3_ACCESS_KEY_ID",
  "S3_SECRET_ACCESS_KEY",
  "S3_FORCE_PATH_STYLE",
];

/** The variables each deployment file sets for the app. */
async function deploymentVariables(): Promise<Record<string, string[]>> {
  const read = (p: string) => Deno.readTextFile(new URL(p, root));
  const dockerfile = await read("Dockerfile");
  // ENV A=1 \ B=2 … (continuation lines joined first).
  const envLines = dockerfile.replace(/\\\n/g, " ").split("\n").filter((l) => /^ENV\s/.test(l));
  const docker = envLines.flatMap((l) => [...l.slice(4).matchAll(/([A-Z][A-Z0-9_]*)=/g)])
    .map((m) => m[1]);
  const compose = parse(await read("compose.yaml"), { merge: true });
  const apps = Object.values(
    compose.services as Record<string, { build?: string; environment?: object }>,
  )
    .filter((s) => s.build);
  const composeVars = apps.flatMap((s) => Object.keys(s.environment ?? {}));
  const unit = [
    ...(await read("deploy/pipevideo.service")).matchAll(/^Environment=([A-Z0-9_]+)=/gm),
  ]
    .map((m) => m[1]);
  return { Dockerfile: docker, "compose.yaml": composeVars, "deploy/pipevideo.service": unit };
}

Deno.test("every variable the Dockerfile, compose.yaml and the systemd unit set is one the app reads", async () => {
  const known = new Set([...CONFIG_VARIABLES, ...STORAGE_VARIABLES]);
  const files = await deploymentVariables();
  for (const [file, vars] of Object.entries(files)) {
    assert.ok(vars.length > 0, `${file}: no variables found (has its format changed?)`);
    assert.deepEqual(vars.filter((v) => !known.has(v)), [], `${file} sets unknown variables`);
  }
  // Both app instances in compose share one KV server and object store.
  assert.ok(files["compose.yaml"].includes("DENO_KV_ACCESS_TOKEN"));
});

Deno.test("JOB_CONCURRENCY defaults to 4 and must be a positive integer", () => {
  assert.equal(parseEnv({}).JOB_CONCURRENCY, 4);
  assert.equal(parseEnv({ JOB_CONCURRENCY: "8" }).JOB_CONCURRENCY, 8);
  for (const bad of ["0", "-1", "2.5", "many"]) {
    assert.throws(() => parseEnv({ JOB_CONCURRENCY: bad }), /JOB_CONCURRENCY/);
  }
});

Deno.test("slow-client bounds: 10 s for headers, 60 s for the request where others connect; headers within the request", () => {
  const e = parseEnv({});
  assert.deepEqual([e.REQUEST_HEADERS_TIMEOUT_SECONDS, e.REQUEST_TIMEOUT_SECONDS], [10, undefined]);
  // Unset: on for every interface (production's 0.0.0.0), off on loopback (development).
  assert.deepEqual(boundsOf(e, "0.0.0.0"), { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
  assert.equal(boundsOf(e, "127.0.0.1"), null);
  assert.deepEqual(boundsOf(parseEnv({ REQUEST_TIMEOUT_SECONDS: "20" }), "127.0.0.1"), {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 20_000,
  });
  assert.equal(boundsOf(parseEnv({ REQUEST_TIMEOUT_SECONDS: "0" }), "0.0.0.0"), null);
  assert.equal(parseEnv({ REQUEST_TIMEOUT_SECONDS: "0" }).REQUEST_TIMEOUT_SECONDS, 0);
  assert.throws(
    () => parseEnv({ REQUEST_HEADERS_TIMEOUT_SECONDS: "30", REQUEST_TIMEOUT_SECONDS: "20" }),
    /REQUEST_HEADERS_TIMEOUT_SECONDS: must not exceed REQUEST_TIMEOUT_SECONDS/,
  );
  assert.throws(() => parseEnv({ REQUEST_HEADERS_TIMEOUT_SECONDS: "0" }), /REQUEST_HEADERS/);
});

Deno.test("on Deno Deploy, settings that need a disk are refused at start-up, naming the variable", () => {
  const deploy = { DENO_DEPLOYMENT_ID: "abc123" };
  const err = (() => {
    try {
      parseEnv({ ...deploy, DENO_KV_PATH: "./data/kv.sqlite" });
    } catch (e) {
      return e as Error;
    }
  })();
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /DENO_KV_PATH: leave it unset on Deno Deploy/);
  assert.match(err.message, /STORAGE: Deno Deploy has no writable disk/);
  assert.match(err.message, /SECRET_KEY: required on Deno Deploy/);
  const ok = parseEnv({
    ...deploy,
    STORAGE: "s3",
    S3_BUCKET: "videos",
    S3_ACCESS_KEY_ID: "id",
    S3_SECRET_ACCESS_KEY: "secret",
    SECRET_KEY: "k".repeat(32),
  });
  assert.equal(ok.DENO_DEPLOYMENT_ID, "abc123");
  // Elsewhere nothing changes.
  assert.doesNotThrow(() => parseEnv({ DENO_KV_PATH: "./data/kv.sqlite" }));
});
