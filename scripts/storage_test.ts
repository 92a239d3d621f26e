import assert from "node:assert/strict";
import { run } from "./storage.ts";
import { localBackend, videosDir } from "../lib/storage/mod.ts";
import { migrateVideos } from "../lib/storage/migrate.ts";
import { s3Backend } from "../lib/storage/s3.ts";
import type { VideoBackend } from "../lib/storage/types.ts";
import {
  createBucket,
  s3Env,
  s3Settings,
  startSwiftS3,
  swiftClient,
} from "../tests/support/swift.ts";

function fakeMp4(size: number, seed = 7): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251;
  bytes.set([0, 0, 0, 24, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
  return bytes;
}
const MP4 = { contentType: "video/mp4", ext: "mp4" };
const IDS = [
  "gen_01JD0000000000000000000001",
  "gen_01JD0000000000000000000002",
  "gen_01JD0000000000000000000003",
];

Deno.test("storage migrate: resumable copy to the bucket, progress, sizes verified", async () => {
  const swift = await startSwiftS3();
  const dataDir = await Deno.makeTempDir();
  try {
    await createBucket(swift, "videos");
    const env = { ...s3Env(swift, "videos"), DATA_DIR: dataDir, SECRET_KEY: "s".repeat(32) };
    const local = localBackend(dataDir);
    const videos = IDS.map((_, i) => fakeMp4(50_000 * (i + 1), i));
    for (const [i, id] of IDS.entries()) {
      await local.write(id, MP4, new Blob([videos[i]]).stream());
    }
    await Deno.writeFile(`${videosDir(dataDir)}/.${IDS[0]}.x.part`, new Uint8Array(10)); // ignored
    const bucket = s3Backend(s3Settings(swift, "videos"));

    // A first run dies on the second video (the network went away, say).
    let writes = 0;
    const flaky: VideoBackend = {
      ...bucket,
      write: (...a) => ++writes === 2 ? Promise.reject(new Error("gone")) : bucket.write(...a),
    };
    await assert.rejects(migrateVideos(dataDir, flaky), /gone/);
    assert.equal(await bucket.size(IDS[0]), videos[0].length);
    assert.equal(await bucket.size(IDS[1]), null);
    // And the third is in the bucket at the wrong size (a half-done earlier attempt elsewhere).
    await bucket.write(IDS[2], MP4, new Blob([videos[2].subarray(0, 1000)]).stream());

    const lines: string[] = [];
    const bars: string[] = [];
    const code = await run(["migrate"], env, (l) => lines.push(l), (b) => bars.push(b));
    assert.equal(code, 0, lines.join("\n"));
    assert.match(lines.join("\n"), /2 copied, 1 already there/);
    assert.match(lines.join("\n"), /All 3 videos verified.*STORAGE=s3/);
    assert.equal(bars[0], `[${"-".repeat(30)}] 0/3 videos, 0.0/0.3 MiB`);
    assert.ok(bars.includes(`[${"#".repeat(30)}] 3/3 videos, 0.3/0.3 MiB`), bars.join("|"));
    for (const [i, id] of IDS.entries()) {
      const got = await swiftClient(swift).fetch(`${swift.endpoint}/videos/videos/${id}`);
      assert.deepEqual(new Uint8Array(await got.arrayBuffer()), videos[i], id);
    }

    // Running again copies nothing.
    lines.length = 0;
    assert.equal(await run(["migrate"], env, (l) => lines.push(l), () => {}), 0);
    assert.match(lines.join("\n"), /0 copied, 3 already there/);

    // An object changed in the bucket under the migration fails the verification.
    const r = await migrateVideos(dataDir, bucket, async (p) => {
      if (p.done === p.total) {
        await bucket.write(IDS[1], MP4, new Blob([videos[1].subarray(0, 500)]).stream());
      }
    });
    assert.deepEqual(r.mismatched, [IDS[1]]);

    assert.equal(await run(["nope"], env, () => {}, () => {}), 2);
    await assert.rejects(
      run(["migrate"], { DATA_DIR: dataDir, SECRET_KEY: "s".repeat(32) }, () => {}, () => {}),
      /S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: required/,
    );
  } finally {
    await swift.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
