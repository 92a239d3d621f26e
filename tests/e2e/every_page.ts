/**
 * Every page, signed in and out, at 1440 and 390 px: zero axe-core violations and no sideways
 * scrolling. The pages are split into PARTS, each audited by its own test file
 * (every_page_*_test.ts) so that no one file runs long; together they cover every page below at
 * both widths, and each prints the pages it visited.
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { axeViolations, horizontalOverflow, setSessionCookie } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { createSession } from "../../lib/db/sessions.ts";
import { createEndpoint } from "../../lib/db/webhooks.ts";
import { createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { waitForTerminal } from "../support/generations.ts";

export const WIDTHS = [1440, 390];

/** Pages a visitor sees signed out, and the signed-in ones (ids filled in by the test). */
export const PARTS = {
  "signed-out": {
    signedOut: ["/", "/models", "/docs", "/login", "/no-such-page", "/invites/not-a-token"],
    signedIn: [],
  },
  "signed-in-work": {
    signedOut: [],
    signedIn: [
      "/",
      "/playground",
      "/usage",
      "/keys",
      "/keys/{key}/revoke",
      "/billing",
      "/webhooks",
      "/webhooks/{endpoint}",
    ],
  },
  "signed-in-more": {
    signedOut: [],
    signedIn: [
      "/generations/{generation}",
      "/models",
      "/docs",
      "/settings",
      "/settings/members",
      "/settings/account",
      "/orgs/new",
      "/logout",
      "/generations/gen_00000000000000000000000000",
    ],
  },
} satisfies Record<string, { signedOut: string[]; signedIn: string[] }>;

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

/** The audit of one part: its own server, data and browser. */
export function everyPageTest(part: keyof typeof PARTS) {
  const { signedOut, signedIn } = PARTS[part];
  Deno.test({
    name: `browser: every page (${part}) at ${WIDTHS.join(" and ")} px: no axe-core violations ` +
      "and no sideways scrolling",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const server = await startTestServer({}, {}, { background: true });
      const browser = await launchBrowser();
      try {
        const problems: string[] = [];
        const visited: string[] = [];
        const visit = async (page: Page, paths: string[], label: string) => {
          for (const path of paths) {
            await audit(page, server.url + path, `${label} ${path}`, problems);
            visited.push(`${label} ${path}`);
          }
        };
        if (signedOut.length) {
          const anon = await browser.createBrowserContext();
          await visit(await anon.newPage(), signedOut, "signed out");
        }
        if (signedIn.length) {
          const ids = await seed(server, signedIn);
          await setSessionCookie(browser, ids.cookie);
          const paths = signedIn.map((p) =>
            p.replace("{key}", ids.key).replace("{endpoint}", ids.endpoint)
              .replace("{generation}", ids.generation)
          );
          await visit(await browser.newPage(), paths, "signed in");
        }
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
}

/**
 * A signed-in user with what the pages show: credits, a key, a webhook endpoint with a long URL,
 * a second session on a phone (so /settings lists one to sign out) and, only when a page needs
 * it, a completed generation.
 */
async function seed(server: Awaited<ReturnType<typeof startTestServer>>, paths: string[]) {
  const kv = server.services.kv;
  const { cookie, orgId, userId } = await signIn(server, { orgName: "Audit" });
  await creditOrg(kv, orgId, 1000, { kind: "topup", reason: "test" });
  const { record: key } = await createApiKey(kv, orgId, { name: "audit key" });
  const { endpoint } = await createEndpoint(kv, orgId, {
    url: "https://example.com/a/very/long/webhook/path/that/should/wrap/on/phones",
    description: "audit",
  }, server.services.now());
  await createSession(kv, userId, {
    orgId,
    userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 " +
      "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
  });
  let generation = "";
  if (paths.some((p) => p.includes("{generation}"))) {
    const gen = await createGeneration(
      server.services.generation,
      orgId,
      parseGenerationBody({ model: "local/preview", prompt: "an audit", duration: 1 }),
    );
    await waitForTerminal(kv, gen.id);
    generation = gen.id;
  }
  return { cookie, key: key.id, endpoint: endpoint.id, generation };
}
