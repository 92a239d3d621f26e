import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { pageErrors } from "../support/pages.ts";
import { verifyWebhook } from "../../lib/webhooks/sign.ts";
import { startReceiver } from "../support/webhook_receiver.ts";
import { sendTestEvent } from "../../lib/webhooks/manage.ts";
import { webhookDeps } from "../../lib/webhooks/notify.ts";

Deno.test({
  name: "browser: add an endpoint, see its secret once, send a test event, see the delivery",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const rx = startReceiver();
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const admin = await signIn(server, { orgName: "Hooks Inc" });
      const [name, value] = admin.cookie.split("=", 2);
      const page = await browser.newPage();
      await page.setCookie({ name, value, url: server.url });
      const errors = pageErrors(page);
      const dir = await screenshotDir();
      const shoot = async (label: string) => {
        for (const width of [1280, 375]) {
          await page.setViewport({ width, height: 900 });
          const overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - document.documentElement.clientWidth
          );
          assert.ok(overflow <= 0, `${label} at ${width}px scrolls sideways by ${overflow}px`);
          await page.screenshot({ path: `${dir}/webhooks-${label}-${width}.png`, fullPage: true });
        }
        await page.setViewport({ width: 1280, height: 900 });
      };

      await page.goto(server.url + "/webhooks", { waitUntil: "load" });
      await page.type("input[name=url]", `${rx.base}/browser`);
      await page.type("input[name=description]", "Browser test receiver");
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("form.webhook-form button[type=submit]"),
      ]);
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      const secret = await page.$eval(
        "[data-testid=webhook-secret]",
        (e) => (e as HTMLInputElement).value,
      );
      assert.match(secret, /^whsec_/);
      await shoot("added");

      // Shown once: back on the list, the secret is gone.
      await page.goto(server.url + "/webhooks", { waitUntil: "load" });
      assert.equal(await page.$("[data-testid=webhook-secret]"), null);
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click(".webhook-endpoints a"),
      ]);
      // The endpoint page updates by itself: a test event sent meanwhile appears with its
      // attempt, without a reload (the marker set on this document survives).
      assert.equal(await page.$("[data-testid=delivery]"), null);
      await page.evaluate(() => document.body.dataset.marker = "same-document");
      const endpointId = new URL(page.url()).pathname.split("/").pop()!;
      await sendTestEvent(webhookDeps(server.services), admin.orgId, endpointId);
      const [got] = await rx.waitFor(1);
      assert.ok(await verifyWebhook(secret, got.headers, got.body, Math.floor(Date.now() / 1000)));
      await page.waitForSelector("[data-testid=attempt]", { timeout: 15_000 });
      assert.equal(await page.evaluate(() => document.body.dataset.marker), "same-document");
      // Times to the second.
      assert.match(
        await page.$eval("[data-testid=attempt]", (e) => e.textContent!),
        /\d:\d\d:\d\d [AP]M UTC/,
      );
      const row = await page.$eval("[data-testid=attempt]", (e) => e.textContent ?? "");
      assert.match(row, /200/);
      const delivery = await page.$eval("[data-testid=delivery]", (e) => e.textContent ?? "");
      assert.match(delivery, /webhook\.test/);
      assert.match(delivery, /succeeded/);
      await page.click("[data-testid=delivery] details summary");
      await shoot("delivery");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      await rx.close();
    }
  },
});
