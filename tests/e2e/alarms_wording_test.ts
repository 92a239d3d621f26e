import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { cancelGeneration, createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";

Deno.test({
  name: "browser: a sensible, explained low-balance alarm; a cancelled run reads cancelled; " +
    "no 'we sent a link' without a mail server; Back after creating an org says where you are",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { services } = server;
      const { page, orgId } = await signedInPage(server, browser, { orgName: "Alarm Co" });
      const errors = pageErrors(page);
      const text = () => page.evaluate(() => document.body.innerText);

      // The free $5, then one $0.04 run: $4.96 is not "low".
      await creditOrg(services.kv, orgId, 500, { kind: "topup", reason: "test" });
      const run = await createGeneration(
        services.generation,
        orgId,
        parseGenerationBody({ model: "local/preview", prompt: "a quiet harbour", duration: 4 }),
        { applicationName: "playground" },
      );
      await page.goto(server.url + "/billing", { waitUntil: "load" });
      assert.equal(
        await page.$eval("[data-testid=billing-balance]", (e) => e.textContent),
        "$4.96",
      );
      assert.equal(await page.$("[data-testid=low-balance]"), null, "$4.96 is not low");
      const rule = await page.$eval("[data-testid=low-balance-rule]", (e) => e.textContent!);
      assert.match(rule, /Low means below \$1\.00: about a week of this organization's spending/);
      assert.ok(await page.$("[data-testid=low-balance-rule] a[href='/billing/spend']"));

      // Cancelled reads "cancelled", not a provider failure.
      await cancelGeneration(services.generation, orgId, run.id);
      await page.goto(server.url + `/generations/${run.id}`, { waitUntil: "load" });
      const timeline = await page.$eval(
        "[data-testid=timeline]",
        (e) => (e as HTMLElement).innerText,
      );
      assert.match(timeline, /Cancelled/);
      assert.doesNotMatch(timeline, /failed/i, timeline);

      // Back after creating an organization.
      await page.goto(server.url + "/orgs/new", { waitUntil: "load" });
      await page.type("input[name=name]", "Second Co");
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("form[action='/orgs/new'] button[type=submit]"),
      ]);
      assert.equal(new URL(page.url()).pathname, "/playground");
      await page.goBack({ waitUntil: "load" });
      // Restored from the back-forward cache, the page reloads itself to show where you are now.
      await page.waitForFunction(
        () =>
          /You are in Second Co/.test(
            document.querySelector("[data-testid=current-org]")?.textContent ?? "",
          ),
        { timeout: 10_000 },
      );

      // Signed out, with no mail server configured: the page does not claim an email was sent.
      const anon = await browser.createBrowserContext();
      const out = await anon.newPage();
      await out.goto(server.url + "/login", { waitUntil: "load" });
      await out.type("#email", "someone@example.com");
      await Promise.all([
        out.waitForNavigation({ waitUntil: "load" }),
        out.click("form[action='/login'] button[type=submit]"),
      ]);
      const said = await out.evaluate(() => document.body.innerText);
      assert.doesNotMatch(said, /We sent/);
      assert.ok(await out.$("[data-testid=no-mail-notice]"));
      // A reload does not post the form again: one link asked for, one link made.
      const links = () =>
        server.logs.filter((l) => l.email === "someone@example.com" && "link" in l).length;
      assert.equal(links(), 1);
      await out.waitForFunction(() =>
        [...document.querySelectorAll("pv-island")].every((e) => e.hasAttribute("data-hydrated"))
      );
      await out.reload({ waitUntil: "load" });
      assert.equal(links(), 1, "the reload did not send the form again");
      assert.ok(await out.$("#email"), "the reload shows the form");
      await anon.close();
      assert.ok((await text()).length > 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
