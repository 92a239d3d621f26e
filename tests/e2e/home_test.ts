import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { pageErrors } from "../support/pages.ts";

Deno.test({
  name: "browser: the home page island hydrates and reacts to clicks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      await page.goto(server.url + "/", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      const text = (sel: string) => page.$eval(sel, (e) => e.textContent);
      const before = {
        duration: await text("[data-testid=duration]"),
        price: await text("[data-testid=price]"),
      };
      await page.click("button[aria-label=Longer]");
      await page.click("button[aria-label=Longer]");
      const after = {
        duration: await text("[data-testid=duration]"),
        price: await text("[data-testid=price]"),
      };
      assert.equal(before.duration, "3 s");
      assert.equal(after.duration, "5 s");
      assert.notEqual(after.price, before.price);
      // CSP allows only same-origin scripts; a violation would show up as a console error.
      assert.deepEqual(errors, []);
      const dir = await screenshotDir();
      for (const width of [1280, 375]) {
        await page.setViewport({ width, height: 900 });
        await page.screenshot({ path: `${dir}/home-${width}.png`, fullPage: true });
      }
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
