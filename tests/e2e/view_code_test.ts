import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { pageErrors, signedInPage } from "../support/pages.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";

Deno.test({
  name: "browser: the Playground's View code follows the form and runs as is; the docs show the " +
    "key's prefix, never the key; every snippet has a copy button; Ctrl+Enter submits",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer({}, {}, { background: true });
    const browser = await launchBrowser();
    try {
      const { page, orgId } = await signedInPage(server, browser, { orgName: "Code Co" });
      const errors = pageErrors(page);
      await creditOrg(server.services.kv, orgId, 500, { kind: "topup", reason: "test" });
      const { key: secret, record: key } = await createApiKey(server.services.kv, orgId, {
        name: "laptop",
      });

      await page.goto(server.url + "/playground", { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated] .playground-form");
      await page.type("textarea[name=prompt]", "a paper boat on a pond");
      await page.select("select[name=duration]", "3");
      await page.click("[data-testid=view-code] summary");
      const panel = (i: number) => page.$eval(`#pg-code-panel-${i}`, (e) => e.textContent!);
      let curl = await panel(0);
      assert.match(curl, /\/v1\/video\/generations/);
      assert.match(curl, /"prompt": "a paper boat on a pond"/);
      assert.match(curl, /"duration": 3/);
      assert.match(curl, /\$PIPEVIDEO_KEY/);
      // It follows the form as it changes.
      await page.select("select[name=duration]", "5");
      curl = await panel(0);
      assert.match(curl, /"duration": 5/);
      await page.click("#pg-code-tab-1");
      assert.match(await panel(1), /fetch\(/);
      await page.click("#pg-code-tab-2");
      assert.match(await panel(2), /requests\.post\(/);
      assert.match(await panel(2), /"duration": 5/);
      // The key by prefix and where to put it; the full key is nowhere on the page.
      assert.equal(
        await page.$eval("[data-testid=view-code] [data-testid=key-prefix]", (e) => e.textContent),
        `${key.prefix}…`,
      );
      const html = await page.content();
      assert.ok(!html.includes(secret), "never the full key");
      // Runs as is with the key in PIPEVIDEO_KEY.
      const ran = await new Deno.Command("sh", {
        args: ["-c", curl.replace(server.services.config.publicUrl, server.url)],
        env: { PIPEVIDEO_KEY: secret },
        stdout: "piped",
      }).output();
      const made = JSON.parse(new TextDecoder().decode(ran.stdout));
      assert.match(made.id, /^gen_/, JSON.stringify(made));

      // Ctrl+Enter in the prompt submits the form.
      await page.focus("textarea[name=prompt]");
      await page.keyboard.down("Control");
      await page.keyboard.press("Enter");
      await page.keyboard.up("Control");
      await page.waitForSelector("[data-testid=status]", { timeout: 10_000 });

      for (const path of ["/docs", "/docs/mcp"]) {
        await page.goto(server.url + path, { waitUntil: "load" });
        assert.equal(
          await page.$eval("[data-testid=your-key] [data-testid=key-prefix]", (e) => e.textContent),
          `${key.prefix}…`,
          `${path}: the key's prefix`,
        );
        assert.ok(!(await page.content()).includes(secret), `${path}: never the full key`);
        const snippets = await page.$$eval(
          ".docs-code",
          (fs) => fs.map((f) => Boolean(f.querySelector("[data-testid=copy-button]"))),
        );
        assert.ok(snippets.length > 0);
        assert.ok(snippets.every(Boolean), `${path}: every snippet has a copy button`);
      }
      assert.equal((await page.$$("#connect .docs-code")).length, 5);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
