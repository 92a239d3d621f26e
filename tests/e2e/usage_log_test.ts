import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { cancelGeneration, createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { failPlan, updateGeneration } from "../../lib/generations/transitions.ts";

Deno.test({
  name: "browser: Usage is a request log: filters in the URL narrow it, Back restores it, " +
    "pages go older, the CSV is what is filtered",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { services } = server;
      const { page, orgId, cookie } = await signedInPage(server, browser, { orgName: "Log Co" });
      const errors = pageErrors(page);
      await creditOrg(services.kv, orgId, 5000, { kind: "topup", reason: "test" });
      const { record: key } = await createApiKey(services.kv, orgId, { name: "ci server" });
      const make = (prompt: string, ctx: { apiKeyId?: string; applicationName?: string }) =>
        createGeneration(
          services.generation,
          orgId,
          parseGenerationBody({ model: "local/preview", prompt, duration: 2 }),
          ctx,
        );
      for (let i = 0; i < 26; i++) await make(`batch run ${i}`, { apiKeyId: key.id });
      const fromKey = await make("from the key", { apiKeyId: key.id });
      const fromPlayground = await make("from the playground", { applicationName: "playground" });
      const failed = await make("this one fails", { apiKeyId: key.id });
      await cancelGeneration(services.generation, orgId, fromPlayground.id);
      await updateGeneration(services.generation, failed.id, failPlan("boom", services.now()));

      const rows = () =>
        page.$$eval(
          "[data-testid=request-log] tbody tr",
          (trs) => trs.map((tr) => tr.getAttribute("data-id")),
        );
      const filter = async (name: string, value: string) => {
        await page.select(`.log-filters select[name=${name}]`, value);
        await Promise.all([
          page.waitForNavigation({ waitUntil: "load" }),
          page.click(".log-filters button[type=submit]"),
        ]);
      };

      await page.goto(server.url + "/usage", { waitUntil: "load" });
      assert.equal((await rows()).length, 25, "a page of 25, newest first");
      assert.equal((await rows())[0], failed.id);
      const first = await page.$eval(`tr[data-id="${fromKey.id}"]`, (e) => e.textContent!);
      for (const want of ["from the key", "local/preview", "ci server", "$0.02"]) {
        assert.ok(first.includes(want), `${want} in ${first}`);
      }
      const table = await page.$eval("[data-testid=request-log]", (e) => e.textContent!);
      assert.doesNotMatch(table, /key_[0-9A-Z]{26}/, "keys by name, never their id");
      assert.equal(
        await page.$eval(`tr[data-id="${fromKey.id}"] a`, (e) => e.getAttribute("href")),
        `/generations/${fromKey.id}`,
        "the video opens in the app",
      );
      // Older: the rest.
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("[data-testid=older]"),
      ]);
      assert.equal((await rows()).length, 4);
      assert.equal(await page.$("[data-testid=older]"), null, "the last page");

      // Filters narrow the list and live in the URL.
      await page.goto(server.url + "/usage", { waitUntil: "load" });
      await filter("status", "failed");
      assert.deepEqual(await rows(), [failed.id]);
      assert.equal(new URL(page.url()).searchParams.get("status"), "failed");
      const csvHref = await page.$eval(
        "a[href^='/usage/export.csv']",
        (e) => e.getAttribute("href")!,
      );
      const csv = await (await fetch(server.url + csvHref, { headers: { Cookie: cookie } })).text();
      const lines = csv.trimEnd().split("\r\n");
      assert.equal(lines.length, 2, "the CSV holds what is filtered");
      assert.ok(lines[1].startsWith(failed.id));
      assert.ok(lines[0].includes("key_name") && lines[1].includes("ci server"));

      await page.goto(server.url + "/usage", { waitUntil: "load" });
      await filter("key", "playground");
      assert.deepEqual(await rows(), [fromPlayground.id]);
      assert.equal(
        await page.$eval(`tr[data-id="${fromPlayground.id}"] .status`, (e) => e.textContent),
        "cancelled",
      );
      // Back restores the unfiltered view.
      await page.goBack({ waitUntil: "load" });
      assert.equal((await rows()).length, 25);
      // Forward again, then narrow by both key and status: nothing cancelled came from the key.
      await page.goForward({ waitUntil: "load" });
      assert.deepEqual(await rows(), [fromPlayground.id]);
      await filter("key", key.id);
      await filter("status", "cancelled");
      assert.deepEqual(await rows(), []);
      assert.ok(await page.$("[data-testid=log-empty]"));

      // A date range: none in 2020; today's includes them all.
      await page.goto(server.url + "/usage?from=2020-01-01&to=2020-01-31", { waitUntil: "load" });
      assert.deepEqual(await rows(), []);
      const today = new Date(services.now()).toISOString().slice(0, 10);
      await page.goto(server.url + `/usage?from=${today}&to=${today}&status=failed`, {
        waitUntil: "load",
      });
      assert.deepEqual(await rows(), [failed.id]);
      assert.equal(
        await page.$eval(".log-filters input[name=from]", (e) => (e as HTMLInputElement).value),
        today,
        "the form shows the filter it applied",
      );
      const dir = await screenshotDir();
      await page.screenshot({ path: `${dir}/usage-filtered.png`, fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
