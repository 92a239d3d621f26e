import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { startTestServer } from "../support/server.ts";
import { launchBrowser, screenshotDir } from "../support/browser.ts";
import { axeViolations, horizontalOverflow, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { cancelGeneration, createGeneration } from "../../lib/generations/service.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";

const WIDTHS = [1440, 390];

/** axe (contrast included) at both widths, in the dark theme; returns what it found. */
async function check(page: Page, url: string, label: string): Promise<string[]> {
  const problems: string[] = [];
  await page.goto(url, { waitUntil: "load" });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  if (bg !== "rgb(17, 17, 24)") problems.push(`${label}: not dark (${bg})`);
  for (const width of WIDTHS) {
    await page.setViewport({ width, height: width > 800 ? 900 : 844 });
    const overflow = await horizontalOverflow(page);
    if (overflow > 0) problems.push(`${label} @${width}: scrolls sideways by ${overflow}px`);
    for (const v of await axeViolations(page)) {
      problems.push(`${label} @${width}: ${v.id} (${v.help}) at ${v.targets.join(" | ")}`);
    }
  }
  return problems;
}

Deno.test({
  name: "browser: the dark theme (prefers-color-scheme) passes axe, contrast included, at 1440 " +
    "and 390 px",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { services } = server;
      const problems: string[] = [];
      const dark = async (page: Page) =>
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);

      const anon = await browser.createBrowserContext();
      const out = await anon.newPage();
      await dark(out);
      for (const path of ["/", "/models", "/docs/mcp", "/login"]) {
        problems.push(...await check(out, server.url + path, `signed out ${path}`));
      }
      await anon.close();

      const { page, orgId } = await signedInPage(server, browser, { orgName: "Dark Co" });
      await dark(page);
      await creditOrg(services.kv, orgId, 500, { kind: "topup", reason: "test" });
      await createApiKey(services.kv, orgId, { name: "ci" });
      const make = (prompt: string) =>
        createGeneration(
          services.generation,
          orgId,
          parseGenerationBody({ model: "local/preview", prompt, duration: 2 }),
          { applicationName: "playground" },
        );
      await make("a pending one");
      const cancelled = await make("a cancelled one");
      await cancelGeneration(services.generation, orgId, cancelled.id);
      for (
        const path of [
          "/playground",
          "/usage",
          "/billing",
          "/keys",
          `/generations/${cancelled.id}`,
          "/docs",
        ]
      ) {
        problems.push(...await check(page, server.url + path, `signed in ${path}`));
      }
      const dir = await screenshotDir();
      for (const [path, name] of [["/playground", "playground"], ["/usage", "usage"]]) {
        await page.setViewport({ width: 1440, height: 900 });
        await page.goto(server.url + path, { waitUntil: "load" });
        await page.screenshot({ path: `${dir}/dark-${name}-1440.png`, fullPage: true });
      }
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
