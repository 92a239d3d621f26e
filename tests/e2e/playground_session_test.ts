import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer, type TestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { pageErrors, setSessionCookie } from "../support/pages.ts";
import { creditOrg, getBalance } from "../../lib/db/ledger.ts";
import { deleteSession } from "../../lib/db/sessions.ts";

/** A signed-in member's playground, hydrated; `token` is their session (to end it). */
async function openPlayground(server: TestServer, page: Page, cents: number) {
  const { cookie, orgId } = await signIn(server, { role: "member" });
  await creditOrg(server.services.kv, orgId, cents, { kind: "topup", reason: "test" });
  await setSessionCookie(page.browser(), cookie);
  const token = cookie.slice(cookie.indexOf("=") + 1);
  await page.goto(server.url + "/playground", { waitUntil: "load" });
  await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
  await page.select("select[name=duration]", "3");
  await page.select("select[name=resolution]", "720p");
  await page.type("textarea[name=prompt]", "a lighthouse at dusk");
  return { orgId, token };
}

Deno.test({
  name: "browser: a playground submit after the session ended says so and links to sign-in",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const { orgId, token } = await openPlayground(server, page, 500);
      await deleteSession(server.services.kv, token); // signed out elsewhere, or expired

      await page.click(".playground-form button[type=submit]");
      await page.waitForSelector(".playground-form-error", { timeout: 10_000 });
      const text = await page.$eval(".playground-form-error", (e) => e.textContent);
      assert.equal(text?.replace(/\s+/g, " ").trim(), "Your session ended — sign in again");
      const href = await page.$eval(".playground-form-error a", (e) => e.getAttribute("href"));
      assert.equal(href, "/login?next=%2Fplayground");
      assert.equal(await getBalance(server.services.kv, orgId), 500);

      // The link leads to the sign-in page (a page request still redirects, never JSON).
      await Promise.all([page.waitForNavigation(), page.click(".playground-form-error a")]);
      assert.equal(new URL(page.url()).pathname, "/login");
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "browser: a playground submit updates the header balance without a reload",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      const { orgId } = await openPlayground(server, page, 1_234_56);
      const balance = () => page.$eval("[data-testid=balance]", (e) => e.textContent);
      assert.equal(await balance(), "$1,234.56");

      await page.click(".playground-form button[type=submit]");
      // Charged at submission: 3 s × 2 cents at 720p.
      await page.waitForFunction(
        () => document.querySelector("[data-testid=balance]")?.textContent === "$1,234.50",
        { timeout: 10_000 },
      );
      assert.equal(await getBalance(server.services.kv, orgId), 1_234_50);
      assert.deepEqual(errors, []); // CSP: no inline script was needed
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
