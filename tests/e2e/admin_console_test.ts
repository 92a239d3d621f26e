import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { fundedOrg } from "../support/api.ts";
import { axeViolations, horizontalOverflow, pageErrors } from "../support/pages.ts";

const ADMIN_TOKEN = "admin-token-0123456789abcdef";

Deno.test("operator console in Chromium: sign in, grant credit through the form, every page accessible", async () => {
  const server = await startTestServer({ ADMIN_TOKEN });
  const browser = await launchBrowser();
  try {
    await fundedOrg(server.services, 50, "Beta Films");
    const page = await browser.newPage();
    const errors = pageErrors(page);
    await page.goto(`${server.url}/admin`);
    assert.equal(new URL(page.url()).pathname, "/admin/login");
    assert.deepEqual(await axeViolations(page), []);
    await page.type("#token", ADMIN_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    assert.equal(new URL(page.url()).pathname, "/admin");

    await Promise.all([page.waitForNavigation(), page.click("table a")]);
    await page.type("#amount", "5");
    await page.type("#reason", "make-good for the outage");
    await Promise.all([page.waitForNavigation(), page.click("form.billing-form button")]);
    assert.equal(
      await page.$eval("[data-testid=balance]", (e) => e.textContent),
      "$5.50",
    );
    assert.match(await page.content(), /make-good for the outage/);

    for (const path of ["/admin", "/admin/generations", "/admin/jobs", "/admin/routes"]) {
      await page.goto(`${server.url}${path}`);
      assert.deepEqual(await axeViolations(page), [], path);
      await page.setViewport({ width: 375, height: 800 });
      assert.equal(await horizontalOverflow(page), 0, `${path} at 375 px`);
      await page.setViewport({ width: 1200, height: 800 });
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
