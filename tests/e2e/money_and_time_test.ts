import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { listApiKeys } from "../../lib/db/apikeys.ts";
import { listGenerations } from "../../lib/db/generations.ts";

/** What a machine writes and a person should not have to read. */
const CENTS_IN_WORDS = /\b\d+ cents?\b/;
const RAW_ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d/;
const RAW_STAMP = /\d{4}-\d\d-\d\d \d\d:\d\d/;

async function assertReadable(page: Page, path: string) {
  await page.goto(page.url().replace(/^(https?:\/\/[^/]+).*/, "$1") + path, { waitUntil: "load" });
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll<HTMLElement>("time[data-precision]")].every((t) =>
        t.dataset.local
      ),
    { timeout: 10_000 },
  );
  const text = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, CENTS_IN_WORDS, `${path}: money in dollars`);
  assert.doesNotMatch(text, RAW_ISO, `${path}: no raw ISO time`);
  assert.doesNotMatch(text, RAW_STAMP, `${path}: no raw timestamp`);
  const times = await page.$$eval(
    "time",
    (ts) =>
      ts.map((t) => ({
        datetime: t.getAttribute("datetime"),
        title: t.title,
        text: t.textContent,
      })),
  );
  for (const t of times) {
    assert.match(t.datetime ?? "", RAW_ISO, `${path}: the raw value stays in datetime`);
    assert.equal(t.title, t.datetime, `${path}: and in the tooltip`);
    // The viewer is in Tokyo: times are theirs, not UTC.
    assert.match(t.text ?? "", /GMT\+9|^[A-Z][a-z]{2} \d{1,2}, \d{4}$/, `${path}: ${t.text}`);
  }
  return { text, times: times.length };
}

Deno.test({
  name: "browser: money reads in dollars and times in words in the viewer's zone; a budget " +
    "refusal links to Spend controls",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser, { orgName: "Money Co" });
      await page.emulateTimezone("Asia/Tokyo");
      const errors = pageErrors(page);
      await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
      const submit = (selector: string) =>
        Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);

      // A key with a $0.05 limit reads back as $0.05.
      await page.goto(server.url + "/keys", { waitUntil: "load" });
      await page.type("input[name=name]", "ci");
      await page.type("input[name=limit_dollars]", "0.05");
      await submit(".key-form button[type=submit]");
      const [key] = await listApiKeys(server.services.kv, orgId);

      // One finished video.
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .playground-form");
      await page.type("textarea[name=prompt]", "a red kite over hills");
      await page.click(".playground-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("[data-testid=status]")?.textContent === "completed",
        { timeout: 60_000 },
      );
      const [gen] = (await listGenerations(server.services.kv, orgId, { limit: 1 })).data;

      // A budget just under what is spent: the next run is refused, pointing at Spend controls.
      await page.goto(server.url + "/billing/spend", { waitUntil: "load" });
      await page.$eval(
        "input[name=monthly_budget_dollars]",
        (e) => (e as HTMLInputElement).value = "",
      );
      await page.type("input[name=monthly_budget_dollars]", "0.05");
      await submit("form[action='/billing/spend'] button[type=submit]");
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .playground-form");
      await page.type("textarea[name=prompt]", "one more");
      await page.click(".playground-form button[type=submit]");
      await page.waitForSelector(".playground-form-error", { timeout: 10_000 });
      const refusal = await page.$eval(".playground-form-error", (e) => e.textContent!);
      assert.match(refusal, /monthly budget of \$0\.05 \(\$0\.04 spent\)/, refusal);
      assert.doesNotMatch(refusal, CENTS_IN_WORDS);
      assert.doesNotMatch(refusal, RAW_ISO);
      assert.equal(
        await page.$eval(".playground-form-error a", (e) => e.getAttribute("href")),
        "/billing/spend",
      );

      for (const path of ["/billing", "/billing/spend", "/usage", "/keys", `/keys/${key.id}`]) {
        await assertReadable(page, path);
      }
      const keyPage = await assertReadable(page, `/keys/${key.id}`);
      assert.match(keyPage.text, /of \$0\.05/, "the key's limit reads back in dollars");
      const genPage = await assertReadable(page, `/generations/${gen.id}`);
      assert.ok(genPage.times >= 3, "the timeline's times are <time> elements");
      await assertReadable(page, "/playground");
      assert.deepEqual(errors.filter((e) => !/402/.test(e)), []);
      const dir = await screenshotDir();
      await page.goto(server.url + `/generations/${gen.id}`, { waitUntil: "load" });
      await page.screenshot({ path: `${dir}/generation-local-time.png`, fullPage: true });
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
