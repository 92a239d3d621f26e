import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { listGenerations } from "../../lib/db/generations.ts";
import { listModels } from "../../lib/catalog/public.ts";
import type { Services } from "../../lib/services.ts";

/** What the form shows: the selected options' values and the price on screen. */
function shown(page: Page) {
  return page.evaluate(() => {
    const sel = (n: string) => {
      const s = document.querySelector(`select[name=${n}]`) as HTMLSelectElement;
      return s.options[s.selectedIndex].value;
    };
    return {
      model: sel("model"),
      duration: Number(sel("duration")),
      resolution: sel("resolution"),
      aspect_ratio: sel("aspect_ratio"),
      price: document.querySelector("[data-testid=price]")!.textContent,
    };
  });
}

/** The price /v1/models gives for these options. */
function priceOf(services: Services, s: { model: string; duration: number; resolution: string }) {
  const m = listModels(services).find((x) => x.slug === s.model)!;
  const cents = m.pricing.cents[s.resolution]! * (m.pricing.unit === "second" ? s.duration : 1);
  return "$" + (cents / 100).toFixed(2);
}

Deno.test({
  name: "browser: the Playground prices and sends what it shows, before and after hydration and " +
    "without JavaScript",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser);
      await creditOrg(server.services.kv, orgId, 1000, { kind: "topup", reason: "test" });

      // Without JavaScript: the server's HTML alone.
      await page.setJavaScriptEnabled(false);
      await page.goto(server.url + "/playground?model=local/preview", { waitUntil: "load" });
      const before = await shown(page);
      assert.equal(before.model, "local/preview");
      assert.equal(before.price, priceOf(server.services, before), JSON.stringify(before));
      // It submits as a plain form, charged for exactly what is shown.
      await page.select("select[name=duration]", "2");
      await page.type("textarea[name=prompt]", "a quiet harbour");
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click(".playground-form button[type=submit]"),
      ]);
      assert.match(new URL(page.url()).pathname, /^\/generations\/gen_/);
      let [g] = (await listGenerations(server.services.kv, orgId, { limit: 1 })).data;
      assert.equal(g.options.duration, 2);
      assert.equal(g.options.resolution, before.resolution);
      assert.equal(g.options.aspect_ratio, before.aspect_ratio);

      // With JavaScript: the same before hydration as after it.
      await page.setJavaScriptEnabled(true);
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .playground-form");
      const hydrated = await shown(page);
      assert.deepEqual(hydrated, before);
      await page.select("select[name=duration]", "3");
      const changed = await shown(page);
      assert.equal(changed.duration, 3);
      assert.equal(changed.price, priceOf(server.services, changed));

      await page.type("textarea[name=prompt]", "a lighthouse");
      await page.click(".playground-form button[type=submit]");
      await page.waitForSelector("[data-testid=status]");
      [g] = (await listGenerations(server.services.kv, orgId, { limit: 1 })).data;
      assert.equal(g.options.prompt, "a lighthouse");
      assert.equal(g.options.duration, changed.duration);
      assert.equal(g.options.resolution, changed.resolution);
      assert.equal("$" + (g.charged_cents / 100).toFixed(2), changed.price);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
