import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { setSessionCookie } from "../support/pages.ts";
import { findOrCreateUserByEmail } from "../../lib/db/users.ts";
import { createSession } from "../../lib/db/sessions.ts";
import { SESSION_COOKIE } from "../../lib/auth/session.ts";
import { getBalance } from "../../lib/db/ledger.ts";
import { getMembership } from "../../lib/db/memberships.ts";

/** Each step's id -> ticked, as the checklist shows it. */
function steps(page: Page) {
  return page.$$eval(
    "[data-testid=checklist] li",
    (lis) => Object.fromEntries(lis.map((li) => [li.dataset.step, li.dataset.done === "true"])),
  );
}

async function submit(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);
}

Deno.test({
  name: "browser: first run: a new organization gets a Get started checklist ticked from real " +
    "state; an invitee sees who invited them and is welcomed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const kv = server.services.kv;
      const user = await findOrCreateUserByEmail(kv, { email: "first@example.com" });
      const { token } = await createSession(kv, user.id);
      await setSessionCookie(browser, `${SESSION_COOKIE}=${token}`);
      const page = await browser.newPage();

      await page.goto(server.url + "/playground", { waitUntil: "load" });
      assert.equal(new URL(page.url()).pathname, "/orgs/new");
      await page.type("input[name=name]", "Firstlight");
      await submit(page, "form[action='/orgs/new'] button[type=submit]");
      assert.equal(new URL(page.url()).pathname, "/playground");
      // Development grants a starting amount, so that step is already done.
      assert.deepEqual(await steps(page), {
        credits: true,
        generated: false,
        key: false,
        webhook: false,
      });
      const orgId = await page.$eval("#org-switch", (s) => (s as HTMLSelectElement).value);
      assert.equal(await getBalance(kv, orgId), 500);

      await page.waitForSelector("pv-island[data-hydrated] .playground-form");
      await page.type("textarea[name=prompt]", "first light");
      await page.click(".playground-form button[type=submit]");
      await page.waitForSelector("[data-testid=status]");
      await page.reload({ waitUntil: "load" });
      assert.equal((await steps(page)).generated, true);

      await page.goto(server.url + "/keys", { waitUntil: "load" });
      await page.type("input[name=name]", "laptop");
      await submit(page, ".key-form button[type=submit]");
      const curl = await page.$eval("[data-testid=new-key-curl]", (e) => e.textContent!);
      assert.match(curl, /curl .*\/v1\/video\/generations[\s\S]*Bearer pv_/);
      // "Try it" runs as pasted into a shell and makes a video.
      const ran = await new Deno.Command("sh", {
        args: ["-c", curl.replace(server.services.config.publicUrl, server.url)],
        stdout: "piped",
      }).output();
      const made = JSON.parse(new TextDecoder().decode(ran.stdout));
      assert.match(made.id, /^gen_/);
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      assert.equal((await steps(page)).key, true);

      await page.goto(server.url + "/webhooks", { waitUntil: "load" });
      await page.type("input[name=url]", "https://example.com/hook");
      await submit(page, ".webhook-form button[type=submit]");
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      assert.equal(await page.$("[data-testid=checklist]"), null, "all done: the list goes away");

      // An invitation from Firstlight: the invitee signs in knowing who invited them.
      await page.goto(server.url + "/settings/members", { waitUntil: "load" });
      await submit(page, ".invite-form button[type=submit]");
      const link = await page.$eval("[data-testid=invite-link]", (e) => e.textContent!);
      const guest = await browser.createBrowserContext();
      const gp = await guest.newPage();
      await gp.goto(new URL(new URL(link).pathname, server.url).href, { waitUntil: "load" });
      assert.equal(new URL(gp.url()).pathname, "/login");
      assert.match(
        await gp.$eval("[data-testid=invited-to]", (e) => e.textContent!),
        /invited to join Firstlight as member/,
      );
      const invitee = await signIn(server, { orgName: "Own place" });
      await setSessionCookie(guest, invitee.cookie);
      await gp.goto(new URL(new URL(link).pathname, server.url).href, { waitUntil: "load" });
      await submit(gp, "form[method=post] button[type=submit]");
      assert.equal(new URL(gp.url()).pathname, "/playground");
      assert.match(
        await gp.$eval(".flash-success", (e) => e.textContent!),
        /Welcome to Firstlight/,
      );
      assert.equal((await getMembership(kv, orgId, invitee.userId))?.role, "member");
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
