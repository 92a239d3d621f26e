import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { setSessionCookie, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";

Deno.test({
  name: "browser: user menu closes on Escape and outside click; at 390 px every section is on " +
    "screen and the Playground brings its result into view, announced from a live region",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser);
      await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
      await page.setViewport({ width: 390, height: 844 });
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForFunction(() =>
        [...document.querySelectorAll("pv-island")].every((e) => e.hasAttribute("data-hydrated"))
      );
      const menuOpen = () => page.$eval(".user-menu", (d) => (d as HTMLDetailsElement).open);

      // The menu: named, and it closes on Escape (focus back on it) and on a click elsewhere.
      const snapshot = await page.accessibility.snapshot({ interestingOnly: true });
      assert.match(JSON.stringify(snapshot), /Account menu: user/);
      await page.click(".user-menu summary");
      assert.equal(await menuOpen(), true);
      await page.keyboard.press("Escape");
      assert.equal(await menuOpen(), false);
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), "SUMMARY");
      await page.click(".user-menu summary");
      assert.equal(await menuOpen(), true);
      await page.click("h1");
      assert.equal(await menuOpen(), false);

      // Every section of the navigation is on screen at phone width.
      const offscreen = await page.$$eval(
        "nav.app-nav a",
        (links) =>
          links.filter((a) => {
            const r = a.getBoundingClientRect();
            return r.width === 0 || r.left < 0 || r.right > globalThis.innerWidth;
          }).map((a) => a.textContent),
      );
      assert.deepEqual(offscreen, []);
      assert.equal(await page.$$eval("nav.app-nav a", (l) => l.length), 8);

      // The live region is there before anything is said in it.
      assert.ok(await page.$(".playground-result [aria-live=polite]"));
      assert.equal(await page.$eval("[data-testid=live]", (e) => e.textContent), "");
      await page.type("textarea[name=prompt]", "a small boat");
      await page.click(".playground-form button[type=submit]");
      await page.waitForSelector("[data-testid=live] [data-testid=status]");
      // The result (below the form on a phone) is scrolled into view.
      await page.waitForFunction(() => {
        const r = document.querySelector(".playground-result")!.getBoundingClientRect();
        return r.top >= 0 && r.top < globalThis.innerHeight;
      }, { timeout: 5000 });
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "browser: choosing another organization in the header switches at once (no button)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const first = await signIn(server, { orgName: "First Org", email: "two@example.com" });
      const second = await signIn(server, { orgName: "Second Org", email: "two@example.com" });
      await setSessionCookie(browser, first.cookie);
      const page = await browser.newPage();
      await page.goto(server.url + "/usage", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .org-switcher");
      assert.equal(await page.$(".org-switcher button"), null, "no Switch button with JavaScript");
      const current = () => page.$eval("#org-switch", (s) => (s as HTMLSelectElement).value);
      assert.equal(await current(), first.orgId);
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.select("#org-switch", second.orgId),
      ]);
      assert.equal(new URL(page.url()).pathname, "/usage", "stays on the same page");
      assert.equal(await current(), second.orgId);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
