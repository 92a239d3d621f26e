/**
 * `deno task screenshots`: the main pages at 1440 and 390 px, signed out and signed in with a
 * little real data, written to docs/screenshots/ (see README) for a reviewer to look at the
 * product without running it. Uses the test server (in-memory KV, local model) and Chromium.
 */
import { startTestServer } from "../tests/support/server.ts";
import { launchBrowser } from "../tests/support/browser.ts";
import { signIn } from "../tests/support/auth.ts";
import { setSessionCookie } from "../tests/support/pages.ts";
import { creditOrg } from "../lib/db/ledger.ts";
import { createApiKey } from "../lib/db/apikeys.ts";
import { createEndpoint } from "../lib/db/webhooks.ts";
import { createGeneration } from "../lib/generations/service.ts";
import { parseGenerationBody } from "../lib/generations/schema.ts";
import { waitForTerminal } from "../tests/support/generations.ts";

const OUT = new URL("../docs/screenshots/", import.meta.url).pathname;
const WIDTHS = [1440, 390];

const server = await startTestServer({}, {}, { background: true });
const browser = await launchBrowser();
try {
  await Deno.mkdir(OUT, { recursive: true });
  const kv = server.services.kv;
  const { cookie, orgId } = await signIn(server, {
    orgName: "Acme Studio",
    email: "dana@acme.example",
  });
  await creditOrg(kv, orgId, 2500, { kind: "topup", reason: "Welcome credits" });
  await createApiKey(kv, orgId, { name: "production server" });
  await createEndpoint(kv, orgId, {
    url: "https://hooks.acme.example/pipevideo/events",
    description: "render farm",
  }, server.services.now());
  let genId = "";
  for (const prompt of ["A lighthouse at dusk, waves rolling in", "A paper boat on a river"]) {
    const g = await createGeneration(
      server.services.generation,
      orgId,
      parseGenerationBody({ model: "local/preview", prompt, duration: 2 }),
      { applicationName: "playground" },
    );
    await waitForTerminal(kv, g.id);
    genId = g.id;
  }

  const shots: [string, string, boolean][] = [
    ["home", "/", false],
    ["models", "/models", false],
    ["docs", "/docs", false],
    ["login", "/login", false],
    ["playground", "/playground", true],
    ["usage", "/usage", true],
    ["generation", `/generations/${genId}`, true],
    ["keys", "/keys", true],
    ["billing", "/billing", true],
    ["webhooks", "/webhooks", true],
    ["settings", "/settings", true],
  ];
  const anon = await (await browser.createBrowserContext()).newPage();
  await setSessionCookie(browser, cookie);
  const page = await browser.newPage();
  for (const [name, path, signedIn] of shots) {
    const p = signedIn ? page : anon;
    for (const width of WIDTHS) {
      await p.setViewport({ width, height: width > 800 ? 900 : 844 });
      await p.goto(server.url + path, { waitUntil: "load" });
      await p.waitForFunction(() =>
        [...document.querySelectorAll("pv-island")].every((e) => e.hasAttribute("data-hydrated"))
      );
      await p.screenshot({ path: `${OUT}${name}-${width}.png`, fullPage: true });
    }
    console.log(`docs/screenshots/${name}-{${WIDTHS.join(",")}}.png`);
  }
} finally {
  await browser.close();
  await server.close();
}
