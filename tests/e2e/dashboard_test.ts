import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { startSmtp } from "../support/smtp.ts";
import { listApiKeys } from "../../lib/db/apikeys.ts";
import { getUserByEmail } from "../../lib/db/users.ts";
import { listUserOrgs } from "../../lib/db/memberships.ts";

/** The sign-in link from a raw message (undoing quoted-printable soft breaks). */
function linkFrom(raw: string): URL {
  const text = raw.replace(/=\r?\n/g, "").replace(/=3D/gi, "=");
  const m = text.match(/https?:\/\/[^\s"<>]+\/auth\/magic\?token=[0-9a-f]{64}/);
  assert.ok(m, "the email holds a sign-in link");
  return new URL(m[0]);
}

async function shoot(page: Page, dir: string, name: string) {
  for (const width of [1280, 375]) {
    await page.setViewport({ width, height: 900 });
    await page.screenshot({ path: `${dir}/${name}-${width}.png`, fullPage: true });
    if (width === 375) {
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth
      );
      const wide = overflow > 0
        ? await page.evaluate(() =>
          [...document.querySelectorAll("body *")]
            .filter((e) =>
              e.getBoundingClientRect().width > document.documentElement.clientWidth &&
              getComputedStyle(e).overflowX === "visible"
            )
            .slice(0, 5).map((e) => `${e.tagName}.${e.className}`).join(", ")
        )
        : "";
      assert.ok(overflow <= 0, `${name} scrolls sideways at 375 px (${overflow}px): ${wide}`);
    }
  }
  await page.setViewport({ width: 1280, height: 900 });
}

Deno.test({
  name:
    "browser: email sign-in, create org, create key, credits, playground video, usage, key works, revoke -> 401",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const smtp = await startSmtp();
    const server = await startTestServer(
      { SMTP_URL: smtp.url, MAIL_FROM: "pv@example.com" },
      {},
      { background: true },
    );
    const browser = await launchBrowser();
    try {
      const dir = await screenshotDir();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      // The form re-rendered with a 400 on purpose is logged by Chromium as a failed load.
      page.on(
        "console",
        (m) => m.type() === "error" && !/status of 400/.test(m.text()) && errors.push(m.text()),
      );

      await page.goto(server.url + "/keys", { waitUntil: "load" });
      assert.equal(new URL(page.url()).pathname, "/login");
      await shoot(page, dir, "login");
      await page.type("#email", "dana@example.com");
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      assert.match(await page.content(), /We sent a sign-in link/);

      const link = linkFrom(await smtp.next());
      // PUBLIC_URL is the default; the test server listens elsewhere, so keep path and query.
      await page.goto(server.url + link.pathname + link.search, { waitUntil: "load" });
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      assert.equal(new URL(page.url()).pathname, "/orgs/new");
      await shoot(page, dir, "orgs-new");

      // Bad input shows its error beside the field, then a good name creates the org.
      const createOrg = "main form[action='/orgs/new'] button[type=submit]";
      await Promise.all([page.waitForNavigation(), page.click(createOrg)]);
      assert.ok(await page.$("#name-error"));
      await page.type("#name", "Dana Films");
      await Promise.all([page.waitForNavigation(), page.click(createOrg)]);
      assert.equal(new URL(page.url()).pathname, "/playground");
      assert.ok(await page.$("[data-testid=checklist]"), "a new org gets its first steps");
      await page.goto(server.url + "/keys", { waitUntil: "load" });
      assert.match(await page.content(), /No API keys yet/);
      await shoot(page, dir, "keys-empty");

      await page.type("#key-name", "e2e key");
      await Promise.all([page.waitForNavigation(), page.click(".key-form button[type=submit]")]);
      const secret = await page.$eval("[data-testid=new-key-secret]", (e) => e.textContent!);
      assert.match(secret, /^pv_[0-9a-f]{64}$/);
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      await shoot(page, dir, "keys-created");

      // Credits: the billing page's development button, seen in the header balance.
      const balance = () => page.$eval("[data-testid=balance]", (e) => e.textContent);
      // Development grants a starting amount to a new org; the button adds more.
      const starting = await balance();
      assert.equal(starting, "$5.00");
      await page.goto(server.url + "/billing", { waitUntil: "load" });
      await Promise.all([
        page.waitForNavigation(),
        page.click("form[action='/billing/dev-credits'] button[type=submit]"),
      ]);
      assert.notEqual(await balance(), starting);

      // A generation in the playground with the local model, played in the page.
      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 10_000 });
      await page.type("textarea[name=prompt]", "a red kite over the dunes");
      await page.select("select[name=duration]", "2");
      await page.click(".playground-form button[type=submit]");
      await page.waitForFunction(
        () => document.querySelector("[data-testid=status]")?.textContent === "completed",
        { timeout: 60_000 },
      );
      const played = await page.waitForFunction(
        () => {
          const v = document.querySelector("video") as HTMLVideoElement | null;
          return v && v.readyState >= 1 && v.duration > 0 ? v.duration : false;
        },
        { timeout: 20_000 },
      );
      assert.ok((await played.jsonValue() as number) > 1.5);
      const genId = await page.$eval("[data-testid=status] + a code", (e) => e.textContent);
      assert.match(genId!, /^gen_/);

      // The same generation on the usage page.
      await page.goto(server.url + "/usage", { waitUntil: "load" });
      const row = await page.$eval(`tr[data-id="${genId}"]`, (e) => e.textContent);
      assert.match(row!, /completed/);

      const usage = () =>
        fetch(server.url + "/v1/usage", { headers: { Authorization: `Bearer ${secret}` } });
      const ok = await usage();
      assert.equal(ok.status, 200);
      const usageBody = await ok.json();
      assert.ok(usageBody.credit_balance > 0);
      assert.ok(
        usageBody.recent_requests.some((r: { id: string }) => r.id === genId),
        "the key sees the playground generation",
      );

      await page.goto(server.url + "/keys", { waitUntil: "load" });
      await Promise.all([page.waitForNavigation(), page.click("a[aria-label='Revoke e2e key']")]);
      await shoot(page, dir, "keys-revoke");
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit].danger-fill")]);
      assert.match(await page.content(), /The key was revoked/);
      await shoot(page, dir, "keys-list");
      const denied = await usage();
      await denied.body?.cancel();
      assert.equal(denied.status, 401);

      await page.goto(server.url + "/settings/members", { waitUntil: "load" });
      await shoot(page, dir, "members");

      // Keyboard: the first Tab stop is the skip link, then the brand link, then onwards.
      await page.keyboard.press("Tab");
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent?.trim()),
        "Skip to content",
      );
      await page.keyboard.press("Tab");
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent?.trim()),
        "▶ Pipevideo",
      );

      // Sign out through the user menu.
      await page.click(".user-menu summary");
      await Promise.all([page.waitForNavigation(), page.click(".user-menu form button")]);
      assert.equal(new URL(page.url()).pathname, "/login");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      await smtp.close();
    }
  },
});

Deno.test({
  name: "browser: a cross-site form posting to /keys is refused and creates nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    // The attacker's page lives on another site (localhost vs 127.0.0.1) and auto-submits.
    const target = server.url + "/keys";
    const evil = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () =>
      new Response(
        `<form id=f method=post action="${target}"><input name=name value=stolen></form>` +
          `<script>document.getElementById('f').submit()</script>`,
        { headers: { "Content-Type": "text/html" } },
      ));
    const browser = await launchBrowser();
    try {
      const kv = server.services.kv;
      const page = await browser.newPage();
      // A signed-in admin in this browser (real sign-in through the dev log link).
      await page.goto(server.url + "/login", { waitUntil: "load" });
      await page.type("#email", "victim@example.com");
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      const entry = server.logs.findLast((l) => typeof l.link === "string")!;
      const link = new URL(String(entry.link));
      await page.goto(server.url + link.pathname + link.search, { waitUntil: "load" });
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      await page.type("#name", "Victim Org");
      await Promise.all([page.waitForNavigation(), page.click("main form button[type=submit]")]);
      const user = (await getUserByEmail(kv, "victim@example.com"))!;
      const orgId = (await listUserOrgs(kv, user.id))[0].org.id;

      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.goto(`http://localhost:${evil.addr.port}/`),
      ]);
      assert.equal(response?.status(), 403);
      assert.deepEqual(await listApiKeys(kv, orgId), []);
    } finally {
      await browser.close();
      await evil.shutdown();
      await server.close();
    }
  },
});
