import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { getBalance } from "../../lib/db/ledger.ts";

Deno.test({
  name: "browser: development credits on /billing update the balance in the header",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser);
      const errors = pageErrors(page);
      const text = (sel: string) => page.$eval(sel, (e) => e.textContent?.trim());

      await page.goto(server.url + "/billing", { waitUntil: "load" });
      assert.equal(await text("[data-testid=balance]"), "$0.00");
      assert.ok(await page.$("[data-testid=low-balance]"), "low-balance notice at $0");
      assert.equal(await page.$("[data-testid=refund-debt]"), null);

      // The buttons are plain form posts (no JavaScript): keyboard works the same as a click.
      const button = await page.waitForSelector("form[action='/billing/dev-credits'] button");
      assert.equal(await button!.evaluate((b) => b.textContent), "Add $10.00");
      await button!.focus();
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.keyboard.press("Enter"),
      ]);
      assert.equal(new URL(page.url()).pathname, "/billing");
      assert.equal(await text("[data-testid=balance]"), "$10.00");
      assert.equal(await text("[data-testid=billing-balance]"), "$10.00");
      assert.equal(await page.$("[data-testid=low-balance]"), null);
      const row = await page.$eval(".billing-table tbody tr", (tr) => tr.textContent);
      assert.match(row ?? "", /Adjustment.*Development credits.*\+\$10\.00.*\$10\.00/);
      assert.equal(await getBalance(server.services.kv, orgId), 1_000);
      assert.deepEqual(errors, []);

      const dir = await screenshotDir();
      for (const width of [1280, 375]) {
        await page.setViewport({ width, height: 900 });
        await page.screenshot({ path: `${dir}/billing-${width}.png`, fullPage: true });
        // Nothing but the tables may scroll sideways at phone width.
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth > document.documentElement.clientWidth
        );
        assert.equal(overflow, false, `page overflows horizontally at ${width}px`);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
