import assert from "node:assert/strict";
import { testConfig } from "../config.ts";
import { backendFor } from "./mod.ts";
import { pageCsp } from "../http/security.ts";

const GEN = "gen_01JD0000000000000000000000";

Deno.test("s3 links: virtual-host style by default (AWS), path style when forced", async () => {
  const env = {
    STORAGE: "s3",
    S3_BUCKET: "videos",
    S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
    S3_SECRET_ACCESS_KEY: "secret",
    S3_REGION: "eu-west-1",
    S3_PREFIX: "pv",
  };
  const aws = backendFor(testConfig(env));
  const res = await aws.serve(new Request("http://app.test/"), GEN);
  const location = new URL(res.headers.get("location")!);
  assert.equal(location.origin, "https://videos.s3.eu-west-1.amazonaws.com");
  assert.equal(location.pathname, `/pv/videos/${GEN}`);
  assert.match(
    location.searchParams.get("X-Amz-Credential")!,
    /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\//,
  );

  const minio = testConfig({
    ...env,
    S3_ENDPOINT: "http://minio.internal:9000",
    S3_FORCE_PATH_STYLE: "true",
  });
  const forced = await backendFor(minio).serve(new Request("http://app.test/"), GEN);
  const path = new URL(forced.headers.get("location")!);
  assert.equal(path.origin, "http://minio.internal:9000");
  assert.equal(path.pathname, `/videos/pv/videos/${GEN}`);

  // The pages may play videos from the bucket; with local storage, only from the app.
  assert.match(pageCsp(minio), /media-src 'self' blob: http:\/\/minio\.internal:9000;/);
  assert.match(pageCsp(testConfig()), /media-src 'self' blob:;/);
});
