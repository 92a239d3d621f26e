import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { pageErrors } from "../support/pages.ts";
import { MODELS } from "../../lib/catalog/mod.ts";

Deno.test({
  name: "browser: with no provider configured, /models prices every catalog model and says which " +
    "are not configured; the home estimator offers them all",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // No provider keys: only the built-in local model runs here.
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      await page.goto(server.url + "/models", { waitUntil: "load" });
      const cards = await page.$$eval(".models-card", (cs) =>
        cs.map((c) => ({
          slug: c.getAttribute("data-slug") ?? c.getAttribute("data-unconfigured"),
          configured: c.hasAttribute("data-slug"),
          badge: c.querySelector("[data-testid=not-configured]")?.textContent ?? null,
          prices: [...c.querySelectorAll(".models-prices tbody td")].map((td) => td.textContent),
          caps: c.querySelectorAll(".models-caps li").length,
        })));
      assert.deepEqual(cards.map((c) => c.slug), MODELS.map((m) => m.slug), "every model");
      for (const c of cards) {
        assert.ok(c.prices.length > 0, `${c.slug}: priced`);
        assert.ok(c.prices.every((p) => /^\$\d+\.\d\d$/.test(p ?? "")), `${c.slug}: ${c.prices}`);
        assert.ok(c.prices.some((p) => p !== "$0.00") || c.slug === "local/preview");
        assert.equal(c.caps, 5, `${c.slug}: capabilities`);
        assert.equal(
          c.badge,
          c.configured ? null : "not configured on this server",
          `${c.slug}: labelled`,
        );
      }
      assert.deepEqual(cards.filter((c) => c.configured).map((c) => c.slug), ["local/preview"]);

      await page.goto(server.url + "/", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .estimator");
      const options = await page.$eval(
        ".estimator select",
        (s) => [...(s as HTMLSelectElement).options].map((o) => o.textContent!),
      );
      assert.equal(options.length, MODELS.length, "the estimator offers every model");
      assert.ok(options.filter((o) => /not configured on this server/.test(o)).length > 0);
      const veo = MODELS.findIndex((m) => m.slug === "google/veo-3.1");
      await page.select(".estimator select", String(veo));
      await page.waitForSelector("[data-testid=estimator-unconfigured]");
      const price = await page.$eval("[data-testid=price]", (e) => e.textContent!);
      assert.match(price, /^\$\d+\.\d\d$/);
      assert.notEqual(price, "$0.00");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
