import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";

Deno.test({
  name: "browser: signed in, the public pages show the dashboard's header (org, balance, way back)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      // Signed out first: the public header, and the home page invites to get started.
      const anon = await browser.createBrowserContext();
      const out = await anon.newPage();
      await out.goto(server.url + "/", { waitUntil: "load" });
      assert.ok(await out.$(".site-header"));
      assert.equal(await out.$("[data-testid=balance]"), null);
      assert.match(await out.$eval("main", (e) => e.textContent ?? ""), /Get started/);
      await anon.close();

      const { page } = await signedInPage(server, browser, { orgName: "Header Co" });
      const errors = pageErrors(page);
      for (const path of ["/", "/models", "/docs", "/docs/mcp", "/playground"]) {
        await page.goto(server.url + path, { waitUntil: "load" });
        const header = await page.$eval("header", (e) => e.textContent ?? "");
        assert.match(header, /Header Co/, `${path}: the org is named`);
        assert.equal(
          await page.$eval("[data-testid=balance]", (e) => e.textContent),
          "$0.00",
          `${path}: the balance is shown`,
        );
        assert.equal(
          await page.$eval("[data-testid=dashboard-link]", (e) => e.getAttribute("href")),
          "/playground",
          `${path}: a way back to the dashboard`,
        );
        assert.ok(await page.$("nav[aria-label=Dashboard] a[href='/usage']"), `${path}: sections`);
        assert.equal(await page.$(".site-header"), null, `${path}: one header, not two`);
        if (path !== "/playground") {
          const body = await page.$eval("body", (e) => e.innerText);
          assert.doesNotMatch(body, /Get started/, `${path}: no "Get started" when signed in`);
        }
        assert.ok(await page.$("#main"), `${path}: the skip link has its target`);
      }
      // The org switcher and user menu islands hydrate on a public page too.
      await page.goto(server.url + "/models", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
