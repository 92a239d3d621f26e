import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { startSwiftS3 } from "./swift.ts";

Deno.test("Swift's s3api verifies SigV4: the right secret stores, a wrong one is refused", async () => {
  const s3 = await startSwiftS3();
  try {
    console.log(`Swift S3 ready in ${s3.startupMs} ms`);
    const opts = { service: "s3", region: s3.region, accessKeyId: s3.accessKeyId };
    const good = new AwsClient({ ...opts, secretAccessKey: s3.secretAccessKey });
    const bad = new AwsClient({ ...opts, secretAccessKey: "not-the-secret" });
    const bucket = `${s3.endpoint}/videos`;
    const made = await good.fetch(bucket, { method: "PUT" });
    assert.equal(made.status, 200, await made.text());

    const refused = await bad.fetch(`${bucket}/a.txt`, { method: "PUT", body: "nope" });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /SignatureDoesNotMatch/);

    const put = await good.fetch(`${bucket}/a.txt`, { method: "PUT", body: "hello" });
    assert.equal(put.status, 200, await put.text());
    const got = await good.fetch(`${bucket}/a.txt`);
    assert.equal(await got.text(), "hello");
    const missing = await bad.fetch(`${bucket}/a.txt`);
    assert.equal(missing.status, 403, "reads need the right secret too");
    await missing.body?.cancel();
  } finally {
    await s3.close();
  }
});
