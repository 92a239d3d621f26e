import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../../lib/testing/server.ts";
import { launchBrowser } from "../../lib/testing/browser.ts";
import { signIn } from "../../lib/testing/auth.ts";
import { axeViolations, horizontalOverflow, setSessionCookie } from "../../lib/testing/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { createEndpoint } from "../../lib/db/webhooks.ts";
import { createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { waitForTerminal } from "../../lib/generations/testkit.ts";

const WIDTHS = [1440, 390];

/** Pages a visitor sees signed out, and the signed-in ones (ids filled in below). */
const SIGNED_OUT = ["/", "/models", "/docs", "/login", "/no-such-page", "/invites/not-a-token"];
const SIGNED_IN = [
  "/",
  "/playground",
  "/usage",
  "/keys",
  "/keys/{key}/revoke",
  "/billing",
  "/webhooks",
  "/webhooks/{endpoint}",
  "/generations/{generation}",
  "/models",
  "/docs",
  "/settings",
  "/settings/members",
  "/settings/account",
  "/orgs/new",
  "/logout",
  "/generations/gen_00000000000000000000000000",
];

async function audit(page: Page, url: string, label: string, problems: string[]) {
  await page.goto(url, { waitUntil: "load" });
  // Islands hydrate before the audit, so what is checked is what a user gets.
  await page.waitForFunction(() =>
    [...document.querySelectorAll("pv-island")].every((e) => e.hasAttribute("data-hydrated"))
  );
  for (const width of WIDTHS) {
    await page.setViewport({ width, height: width > 800 ? 900 : 844 });
    const overflow = await horizontalOverflow(page);
    if (overflow > 0) problems.push(`${label} @${width}: scrolls sideways by ${overflow}px`);
    // Colours do not change with width (no media query sets one), and the contrast rule is
    // axe's slowest: it runs at the first width only.
    const skipRules = width === WIDTHS[0] ? [] : ["color-contrast"];
    for (const v of await axeViolations(page, { skipRules })) {
      problems.push(`${label} @${width}: ${v.id} (${v.help}) at ${v.targets.join(" | ")}`);
    }
  }
}

Deno.test({
  name: "browser: every page, signed in and out, at 1440 and 390 px: no axe-core violations and " +
    "no sideways scrolling",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const kv = server.services.kv;
      const { cookie, orgId } = await signIn(server, { orgName: "Audit" });
      await creditOrg(kv, orgId, 1000, { kind: "topup", reason: "test" });
      const { record: key } = await createApiKey(kv, orgId, { name: "audit key" });
      const { endpoint } = await createEndpoint(kv, orgId, {
        url: "https://example.com/a/very/long/webhook/path/that/should/wrap/on/phones",
        description: "audit",
      }, server.services.now());
      const gen = await createGeneration(
        server.services.generation,
        orgId,
        parseGenerationBody({ model: "local/preview", prompt: "an audit", duration: 1 }),
      );
      await waitForTerminal(kv, gen.id);

      const problems: string[] = [];
      const visited: string[] = [];
      // Signed out in a separate browser context, both at once.
      const anon = await browser.createBrowserContext();
      await setSessionCookie(browser, cookie);
      const signedIn = SIGNED_IN.map((p) =>
        p.replace("{key}", key.id).replace("{endpoint}", endpoint.id).replace(
          "{generation}",
          gen.id,
        )
      );
      await Promise.all([
        (async () => {
          const page = await anon.newPage();
          for (const path of SIGNED_OUT) {
            await audit(page, server.url + path, `signed out ${path}`, problems);
            visited.push(`signed out ${path}`);
          }
        })(),
        (async () => {
          const page = await browser.newPage();
          for (const path of signedIn) {
            await audit(page, server.url + path, `signed in ${path}`, problems);
            visited.push(`signed in ${path}`);
          }
        })(),
      ]);
      console.log(
        `visited ${visited.length} pages at ${WIDTHS.join(" and ")} px:\n  ` +
          visited.join("\n  "),
      );
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
