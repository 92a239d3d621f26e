import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signedInPage } from "../support/pages.ts";
import { stripeTestEnv } from "../support/stripe.ts";
import { getMembership } from "../../lib/db/memberships.ts";

Deno.test({
  name: "browser: dead ends land on inline messages (owner, logout, switch, video link, errors, " +
    "billing success in development)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { page, orgId, userId } = await signedInPage(server, browser, { orgName: "Solo" });
      const go = async (path: string) => {
        const res = await page.goto(server.url + path, { waitUntil: "load" });
        return { status: res!.status(), path: new URL(page.url()).pathname };
      };
      const text = () => page.evaluate(() => document.body.innerText);

      // The only owner is offered neither demotion nor removal; a forced post gets a message.
      await go("/settings/members");
      assert.equal(await page.$(`#role-${userId}`), null);
      assert.equal(await page.$("button.danger"), null, "no Remove for the only owner");
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.evaluate((id) => {
          const f = document.createElement("form");
          f.method = "post";
          f.action = "/settings/members";
          for (const [k, v] of [["intent", "remove"], ["user_id", id]]) {
            const i = document.createElement("input");
            i.type = "hidden";
            i.name = k;
            i.value = v;
            f.append(i);
          }
          document.body.append(f);
          f.submit();
        }, userId),
      ]);
      assert.equal(new URL(page.url()).pathname, "/settings/members");
      assert.match(await page.$eval(".flash-error", (e) => e.textContent!), /at least one owner/);
      assert.equal((await getMembership(server.services.kv, orgId, userId))?.role, "owner");

      // GET /orgs/switch is a page, not a 405.
      assert.deepEqual(await go("/orgs/switch"), { status: 200, path: "/settings" });

      // In development nothing was paid: /billing/success does not say otherwise.
      const success = await go("/billing/success?session_id=cs_test_x");
      assert.equal(success.path, "/billing");
      assert.doesNotMatch(await text(), /payment received/i);

      // A bad video link: a page for a browser (which leads back), JSON for a program.
      const bad = "/files/videos/gen_01JZZZZZZZZZZZZZZZZZZZZZZZ.mp4?exp=1&sig=bad";
      assert.equal((await go(bad)).status, 403);
      assert.match(await text(), /invalid or has expired/);
      assert.ok(await page.$("a[href='/playground']"), "signed in: back to the dashboard");
      const api = await fetch(server.url + bad);
      assert.equal(api.status, 403);
      assert.equal((await api.json()).error.code, "forbidden");

      // A signed-in error inside the dashboard: one <main>, the navigation, a way back.
      assert.equal((await go("/generations/gen_nope")).status, 404);
      assert.equal(await page.$$eval("main", (m) => m.length), 1);
      assert.ok(await page.$("nav.app-nav"));
      assert.ok(await page.$(".error-page a[href='/playground']"));

      // GET /logout offers the button (not a 405); using it signs out.
      assert.equal((await go("/logout")).status, 200);
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("form[action='/logout'] button"),
      ]);
      assert.equal(new URL(page.url()).pathname, "/login");
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "browser: Stripe unreachable on top-up is a banner with a retry that then goes through",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    let up = false;
    let calls = 0;
    let port = 0;
    const stripe: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      onListen() {},
    }, async (req): Promise<Response> => {
      await req.body?.cancel();
      calls++;
      if (!up) return Response.json({ error: { type: "api_error" } }, { status: 500 });
      return Response.json({
        id: "cs_test_1",
        object: "checkout.session",
        url: "https://checkout.stripe.com/c/pay/cs_test_1",
      });
    });
    port = stripe.addr.port;
    const server = await startTestServer(stripeTestEnv(port));
    const browser = await launchBrowser();
    try {
      const { page } = await signedInPage(server, browser);
      await page.goto(server.url + "/billing", { waitUntil: "load" });
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click(".billing-presets button"),
      ]);
      assert.equal(new URL(page.url()).pathname, "/billing");
      const banner = await page.$eval("[data-testid=stripe-unreachable]", (e) => e.textContent!);
      assert.match(banner, /Stripe could not be reached.*Nothing was charged/);
      assert.ok(calls >= 1);

      // Stripe is back: the same button now leads to its checkout (answered here, offline).
      up = true;
      await page.setRequestInterception(true);
      page.on(
        "request",
        (r) =>
          r.url().startsWith("https://checkout.stripe.com/")
            ? r.respond({ status: 200, contentType: "text/html", body: "<title>Checkout</title>" })
            : r.continue(),
      );
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("[data-testid=stripe-unreachable] button"),
      ]);
      assert.equal(page.url(), "https://checkout.stripe.com/c/pay/cs_test_1");
    } finally {
      await browser.close();
      await server.close();
      await stripe.shutdown();
    }
  },
});
