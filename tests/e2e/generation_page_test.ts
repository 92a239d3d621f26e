import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { setSessionCookie, signedInPage } from "../support/pages.ts";
import { creditOrg, getBalance } from "../../lib/db/ledger.ts";
import { createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { failPlan, updateGeneration } from "../../lib/generations/transitions.ts";

// A time to the second, in words ("Dec 8, 2026, 2:05:09 PM UTC").
const SECOND = /[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M UTC/;

Deno.test({
  name: "browser: the generation page of a completed run (from Playground and Usage) and of a " +
    "failed, refunded one",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    // No workers here: the failed generation is failed by hand before anything runs it.
    const idle = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser);
      await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
      const text = () => page.evaluate(() => document.body.innerText);

      // Completed: from the Playground result to its page.
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .playground-form");
      await page.type("textarea[name=prompt]", "a red kite over hills");
      await page.click(".playground-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("[data-testid=status]")?.textContent === "completed",
        { timeout: 60_000 },
      );
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("[data-testid=live] a"),
      ]);
      const id = await page.$eval("[data-testid=generation-id]", (e) => e.textContent!);
      assert.match(new URL(page.url()).pathname, new RegExp(`^/generations/${id}$`));
      const body = await text();
      assert.match(body, /a red kite over hills/);
      assert.equal(
        await page.$eval("[data-testid=route]", (e) => e.textContent),
        "local (local/preview)",
      );
      const timeline = await page.$eval(
        "[data-testid=timeline]",
        (e) => (e as HTMLElement).innerText,
      );
      for (const step of ["Submitted", "Sent to local", "Completed"]) {
        assert.match(timeline, new RegExp(`${SECOND.source}\\s*${step}`), timeline);
      }
      assert.match(
        await page.$eval("[data-testid=ledger]", (e) => e.textContent!),
        /Charge -\$0\.04/,
      );
      const video = await page.waitForFunction(() => {
        const v = document.querySelector("video") as HTMLVideoElement | null;
        return v && v.readyState >= 1 && v.duration > 0 ? v.duration : false;
      }, { timeout: 20_000 });
      assert.ok((await video.jsonValue() as number) > 3);
      const download = await page.$eval("a[download]", (e) => e.getAttribute("href")!);
      const file = await fetch(server.url + download);
      assert.equal(file.headers.get("Content-Type"), "video/mp4");
      await file.body?.cancel();
      // Copy as curl / JavaScript / Python: the same request, with the key from the environment.
      const curl = await page.$eval("#gen-code-tabs-panel-0", (e) => e.textContent!);
      assert.match(curl, /curl -X POST https?:\/\/\S+\/v1\/video\/generations/);
      assert.match(curl, /"prompt": "a red kite over hills"/);
      await page.click("#gen-code-tabs-tab-2");
      const py = await page.$eval("#gen-code-tabs-panel-2", (e) => e.textContent!);
      assert.ok(await page.$eval("#gen-code-tabs-panel-2", (e) => !(e as HTMLElement).hidden));
      assert.match(py, /requests\.post\(/);

      // Usage and the Playground's recent runs link to it.
      await page.goto(server.url + "/usage", { waitUntil: "load" });
      assert.ok(await page.$(`tr[data-id="${id}"] a[href="/generations/${id}"]`));
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      assert.ok(await page.$(`.run-list a[href="/generations/${id}"]`), "listed after a reload");

      // Failed and refunded.
      const other = await signIn(idle);
      await creditOrg(idle.services.kv, other.orgId, 300, { kind: "topup", reason: "test" });
      const created = await createGeneration(
        idle.services.generation,
        other.orgId,
        parseGenerationBody({ model: "local/preview", prompt: "a storm", duration: 2 }),
      );
      await updateGeneration(
        idle.services.generation,
        created.id,
        failPlan("local/preview via local: The model is overloaded (429)", idle.services.now()),
      );
      assert.equal(await getBalance(idle.services.kv, other.orgId), 300);
      // Its own browser context: the two servers share the host, so cookies would collide.
      const context = await browser.createBrowserContext();
      await setSessionCookie(context, other.cookie);
      const page2 = await context.newPage();
      await page2.goto(`${idle.url}/generations/${created.id}`, { waitUntil: "load" });
      const error = await page2.$eval("[data-testid=generation-error]", (e) => e.textContent!);
      assert.match(error, /overloaded/);
      assert.match(error, /busy or down\. Try again in a minute/);
      assert.match(error, /\$0\.02 was refunded/);
      const failedTimeline = await page2.$eval(
        "[data-testid=timeline]",
        (e) => (e as HTMLElement).innerText,
      );
      assert.match(failedTimeline, new RegExp(`${SECOND.source}\\s*Failed`));
      assert.match(failedTimeline, new RegExp(`${SECOND.source}\\s*Refunded`));
      const ledger = await page2.$eval("[data-testid=ledger]", (e) => e.textContent!);
      assert.match(ledger, /Charge -\$0\.02/);
      assert.match(ledger, /Refund \$0\.02/);
      assert.equal(await page2.$("video"), null);
    } finally {
      await browser.close();
      await server.close();
      await idle.close();
    }
  },
});
