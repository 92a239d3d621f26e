import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signedInPage } from "../support/pages.ts";
import { listApiKeys } from "../../lib/db/apikeys.ts";
import { listEndpoints } from "../../lib/db/webhooks.ts";
import { listInvites } from "../../lib/db/memberships.ts";

Deno.test({
  name:
    "browser: reloading after creating a key, a webhook endpoint or an invite creates nothing; " +
    "the one-time secret is shown once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const kv = server.services.kv;
      const { page, orgId } = await signedInPage(server, browser, { orgName: "Refresh Co" });
      const submit = (selector: string) =>
        Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);

      // A key: its secret and a ready curl once, then a reload repeats nothing.
      await page.goto(server.url + "/keys", { waitUntil: "load" });
      await page.type("input[name=name]", "ci");
      await submit(".key-form button[type=submit]");
      const secret = await page.$eval("[data-testid=new-key-secret]", (e) => e.textContent);
      assert.match(secret!, /^pv_/);
      const curl = await page.$eval("[data-testid=new-key-curl]", (e) => e.textContent);
      assert.ok(curl!.includes(secret!), "the curl carries the new key");
      assert.doesNotMatch(page.url(), /pv_/, "the secret is never in the URL");
      await page.reload({ waitUntil: "load" });
      assert.equal((await listApiKeys(kv, orgId)).length, 1);
      assert.equal(await page.$("[data-testid=new-key-secret]"), null, "shown once");
      assert.ok(await page.$("[data-testid=reveal-gone]"), "and the page says why it is gone");

      // A webhook endpoint.
      await page.goto(server.url + "/webhooks", { waitUntil: "load" });
      await page.type("input[name=url]", "http://127.0.0.1:9/hook");
      await submit(".webhook-form button[type=submit]");
      assert.ok(await page.$("[data-testid=webhook-secret]"), "the signing secret is shown");
      await page.reload({ waitUntil: "load" });
      assert.equal((await listEndpoints(kv, orgId)).length, 1);
      assert.equal(await page.$("[data-testid=webhook-secret]"), null);

      // An invitation.
      await page.goto(server.url + "/settings/members", { waitUntil: "load" });
      await submit(".invite-form button[type=submit]");
      assert.match(
        await page.$eval("[data-testid=invite-link]", (e) => e.textContent)!,
        /\/invites\//,
      );
      await page.reload({ waitUntil: "load" });
      assert.equal((await listInvites(kv, orgId, server.services.now())).length, 1);
      assert.equal(await page.$("[data-testid=invite-link]"), null);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
