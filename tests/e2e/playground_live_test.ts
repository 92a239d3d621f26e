import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";

Deno.test({
  name: "browser: the Playground's recent runs and checklist follow the first video without reload",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser, { orgName: "Live Co" });
      await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
      const errors = pageErrors(page);
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      let navigations = 0;
      page.on("framenavigated", (f) => f === page.mainFrame() && navigations++);

      const step = () => page.$eval("[data-step=generated]", (e) => e.getAttribute("data-done"));
      assert.equal(await step(), "false");
      assert.match(await page.$eval("#recent-runs-live", (e) => e.textContent!), /No runs yet/);

      await page.type("textarea[name=prompt]", "a lighthouse at dusk");
      await page.click(".playground-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("[data-testid=status]")?.textContent === "completed",
        { timeout: 60_000 },
      );
      const id = await page.$eval("[data-testid=status] + a code", (e) => e.textContent!);
      // The list shows the run as completed and the step is ticked, on this same page.
      await page.waitForFunction(
        (id: string) =>
          document.querySelector(`#recent-runs-live [data-id="${id}"] .status`)?.textContent ===
            "completed" &&
          document.querySelector("[data-step=generated]")?.getAttribute("data-done") === "true",
        { timeout: 20_000 },
        id,
      );
      assert.match(
        await page.$eval(`#recent-runs-live [data-id="${id}"]`, (e) => e.textContent!),
        /a lighthouse at dusk/,
      );
      assert.equal(navigations, 0, "no reload");
      assert.deepEqual(errors, []);
      const dir = await screenshotDir();
      await page.screenshot({ path: `${dir}/playground-live.png`, fullPage: true });
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
