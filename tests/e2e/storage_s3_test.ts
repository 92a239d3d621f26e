/**
 * Browser: with STORAGE=s3, a <video> on one of our pages plays and seeks a finished video from
 * its output_url, which redirects to a presigned URL on the bucket (Swift's s3api) that answers
 * the browser's Range requests; the page's CSP allows that origin.
 */
import assert from "node:assert/strict";
import { createBucket, s3Env, startSwiftS3 } from "../support/swift.ts";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";

Deno.test({
  name: "browser: a video stored in s3 plays and seeks from its output_url",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const swift = await startSwiftS3();
    const server = await startTestServer(
      {
        ...s3Env(swift, "videos"),
        RATE_LIMIT_PER_MINUTE: "100000",
      },
      {},
      { background: true },
    );
    const browser = await launchBrowser();
    try {
      await createBucket(swift, "videos");
      const { key } = await fundedOrg(server.services, 500);
      const created = await call(server.url, "POST", "/v1/video/generations", {
        key,
        body: { model: "local/preview", prompt: "a kite", duration: 4, resolution: "360p" },
      });
      const g = await waitFor(
        async () => {
          const r = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, {
            key,
          });
          return ["completed", "failed"].includes(r.body.status) ? r.body : undefined;
        },
        "completed",
        60_000,
      );
      assert.equal(g.status, "completed", g.error_message);
      const out = new URL(g.output_url);
      const src = server.url + out.pathname + out.search;

      const page = await browser.newPage();
      const fromBucket: number[] = [];
      page.on("response", (r) => {
        if (r.url().startsWith(swift.endpoint)) fromBucket.push(r.status());
      });
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(server.url + "/", { waitUntil: "load" });
      const seen = await page.evaluate(async (src: string) => {
        const v = document.createElement("video");
        v.muted = true;
        v.preload = "auto";
        document.body.append(v);
        const once = (event: string) =>
          new Promise((resolve, reject) => {
            v.addEventListener(event, resolve, { once: true });
            v.addEventListener("error", () => reject(new Error(v.error?.message)), { once: true });
          });
        const loaded = once("loadedmetadata");
        v.src = src;
        await loaded;
        await v.play();
        v.pause();
        const seeked = once("seeked");
        v.currentTime = 3;
        await seeked;
        return { duration: v.duration, currentTime: v.currentTime, readyState: v.readyState };
      }, src);
      assert.ok(Math.abs(seen.duration - 4) < 0.3, `duration ${seen.duration}`);
      assert.ok(Math.abs(seen.currentTime - 3) < 0.1, `seeked to ${seen.currentTime}`);
      assert.ok(seen.readyState >= 1);
      assert.ok(fromBucket.includes(206), `ranged answers from the bucket: ${fromBucket}`);
      assert.deepEqual(errors, [], "no CSP violation or load error");
    } finally {
      await browser.close();
      await server.close();
      await swift.close();
    }
  },
});
