import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { launchBrowser } from "../support/browser.ts";
import { signIn } from "../support/auth.ts";
import { pageErrors, setSessionCookie } from "../support/pages.ts";

Deno.test({
  name:
    "browser: `$` replacement patterns in island props (60 KB ?prompt=) give a normal page that hydrates",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startTestServer();
    const browser = await launchBrowser();
    try {
      const { cookie, headers } = await signIn(server);
      const model = "$`$&$'".repeat(6_000); // a 60 KB request line once encoded
      // Only "&" needs escaping; a fully percent-encoded 180 KB URL is more than fetch accepts.
      const url = `${server.url}/playground?prompt=${model.replaceAll("&", "%26")}`;
      const res = await fetch(url, { headers });
      const html = await res.text();
      assert.equal(res.status, 200);
      // Before the fix `$\`` and `$'` each copied the whole page: about 120 MB.
      assert.ok(html.length < 500_000, `page is ${html.length} bytes`);
      const json = html.match(
        /<script type="application\/json" id="__pv_islands">(.*?)<\/script>/s,
      );
      assert.ok(json, "islands data present");
      // The Playground carries the query's prompt into its props unchanged.
      const islands: { props: { initial?: { prompt?: string } } }[] = JSON.parse(json[1]).islands;
      assert.ok(islands.some((i) => i.props.initial?.prompt === model), "prompt kept as given");

      const page = await browser.newPage();
      const errors = pageErrors(page, { console: false });
      await setSessionCookie(browser, cookie);
      await page.goto(url, { waitUntil: "load" });
      await page.waitForSelector("pv-island[data-hydrated]", { timeout: 15_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  },
});
