import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { creditOrg, getBalance } from "../../lib/db/ledger.ts";

Deno.test({
  name:
    "browser: a member generates on local/preview in the playground, plays it, sees it on /usage",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser, { role: "member" });
      await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
      const errors = pageErrors(page);

      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      await page.type("textarea[name=prompt]", "a lighthouse at dusk");
      await page.select("select[name=duration]", "3");
      await page.select("select[name=resolution]", "720p");
      const price = await page.$eval("[data-testid=price]", (e) => e.textContent);
      assert.equal(price, "$0.06"); // 3 s × 2 cents at 720p

      // Empty prompt first: the error shows next to the field and nothing is charged.
      await page.evaluate(() => {
        const t = document.querySelector("textarea[name=prompt]") as HTMLTextAreaElement;
        t.value = " ";
        t.dispatchEvent(new Event("input", { bubbles: true }));
      });
      await page.click(".playground-form button[type=submit]");
      await page.waitForSelector("#pg-prompt-error", { timeout: 10_000 });
      assert.equal(await getBalance(server.services.kv, orgId), 500);

      await page.type("textarea[name=prompt]", "a lighthouse at dusk");
      await page.click(".playground-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("[data-testid=status]")?.textContent === "completed",
        { timeout: 60_000 },
      );
      const duration = await page.waitForFunction(
        () => {
          const v = document.querySelector("video") as HTMLVideoElement | null;
          return v && v.readyState >= 1 && v.duration > 0 ? v.duration : false;
        },
        { timeout: 20_000 },
      );
      const seconds = await duration.jsonValue() as number;
      assert.ok(seconds > 2.5 && seconds < 4, `video duration ${seconds}`);
      assert.equal(await getBalance(server.services.kv, orgId), 494);
      // The header follows the charge without a reload.
      assert.equal(await page.$eval("[data-testid=balance]", (e) => e.textContent), "$4.94");
      const id = await page.$eval("[data-testid=status] + a code", (e) => e.textContent);
      assert.match(id!, /^gen_/);

      const dir = await screenshotDir();
      for (const width of [1280, 375]) {
        await page.setViewport({ width, height: 900 });
        await page.screenshot({ path: `${dir}/playground-${width}.png`, fullPage: true });
      }

      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(server.url + "/usage", { waitUntil: "load" });
      await page.waitForSelector(`tr[data-id="${id}"]`);
      const row = await page.$eval(`tr[data-id="${id}"]`, (e) => e.textContent);
      assert.match(row!, /completed/);
      assert.match(row!, /local\/preview/);
      assert.match(row!, /\$0\.06/);
      // The chart draws into the space reserved for it: the page does not move.
      const before = await page.$eval(".usage-chart", (e) => e.getBoundingClientRect().height);
      await page.waitForSelector(".usage-chart[data-ready] canvas", { timeout: 10_000 });
      const after = await page.$eval(".usage-chart", (e) => e.getBoundingClientRect().height);
      assert.equal(after, before);
      // Watch stays in the app: the generation's page, which plays the video.
      const watch = await page.$eval(
        `tr[data-id="${id}"] a[data-video]`,
        (e) => e.getAttribute("href"),
      );
      assert.equal(watch, `/generations/${id}#gen-video`);
      await page.goto(server.url + watch, { waitUntil: "load" });
      const src = await page.$eval("video[data-testid=video]", (e) => e.getAttribute("src")!);
      const video = await fetch(server.url + src);
      assert.equal(video.status, 200);
      assert.equal(video.headers.get("Content-Type"), "video/mp4");
      await video.body?.cancel();

      for (const path of ["usage", "models", "docs"]) {
        await page.goto(`${server.url}/${path}`, { waitUntil: "load" });
        if (path === "usage") await page.waitForSelector(".usage-chart[data-ready] canvas");
        for (const width of [1280, 375]) {
          await page.setViewport({ width, height: 900 });
          // Nothing may overflow sideways at phone width.
          const overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - document.documentElement.clientWidth
          );
          assert.ok(overflow <= 0, `${path} overflows by ${overflow}px at ${width}`);
          await page.screenshot({ path: `${dir}/${path}-${width}.png`, fullPage: true });
        }
      }
      // CSP allows only same-origin scripts and media; a violation would be a console error.
      assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
