import assert from "node:assert/strict";
import { ConfigError, parseEnv } from "../config.ts";

const s3 = {
  STORAGE: "s3",
  S3_ENDPOINT: "http://127.0.0.1:9000",
  S3_BUCKET: "videos",
  S3_ACCESS_KEY_ID: "id",
  S3_SECRET_ACCESS_KEY: "secret",
};
const production = {
  APP_ENV: "production",
  SECRET_KEY: "x".repeat(32),
  PUBLIC_URL: "https://pv.example",
};

Deno.test("storage config: defaults, s3 settings and their normal forms", () => {
  const local = parseEnv({});
  assert.equal(local.STORAGE, "local");
  assert.equal(local.VIDEO_RETENTION_DAYS, 30);
  const e = parseEnv({
    ...s3,
    S3_FORCE_PATH_STYLE: "true",
    S3_PREFIX: "pv",
    VIDEO_RETENTION_DAYS: "0",
  });
  assert.equal(e.S3_FORCE_PATH_STYLE, true);
  assert.equal(e.S3_PREFIX, "pv/");
  assert.equal(e.S3_REGION, "us-east-1");
  assert.equal(e.VIDEO_RETENTION_DAYS, 0);
});

Deno.test("storage config: every bad or missing value is named", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ STORAGE: "disk" }, /STORAGE/],
    [{ ...s3, S3_BUCKET: "" }, /S3_BUCKET: required when STORAGE=s3/],
    [{ ...s3, S3_SECRET_ACCESS_KEY: "" }, /S3_SECRET_ACCESS_KEY: required/],
    [{ ...s3, S3_ENDPOINT: "ftp://x" }, /S3_ENDPOINT/],
    [{ ...s3, S3_FORCE_PATH_STYLE: "yes" }, /S3_FORCE_PATH_STYLE: must be true or false/],
    [{ VIDEO_RETENTION_DAYS: "-1" }, /VIDEO_RETENTION_DAYS/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => parseEnv(env),
      (err) => err instanceof ConfigError && message.test(err.message),
    );
  }
});

Deno.test("production refuses local storage with a KV Connect URL, and says why", () => {
  for (const url of ["http://denokv:4512", "https://api.deno.com/databases/x/connect"]) {
    assert.throws(
      () => parseEnv({ ...production, DENO_KV_PATH: url }),
      (err) =>
        err instanceof ConfigError &&
        /STORAGE: local storage cannot be used with a KV Connect URL.*own disk.*STORAGE=s3/s
          .test(err.message),
    );
    parseEnv({ ...production, ...s3, DENO_KV_PATH: url });
  }
  parseEnv({ ...production, DENO_KV_PATH: "./data/kv.sqlite" });
  parseEnv({ DENO_KV_PATH: "http://denokv:4512" }); // development: one instance, allowed
});
