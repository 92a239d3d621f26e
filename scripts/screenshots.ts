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

  type Page = Awaited<ReturnType<typeof browser.newPage>>;
  interface Shot {
    name: string;
    path: string;
    signedIn: boolean;
    /** prefers-color-scheme: dark. */
    dark?: boolean;
    /** What to do on the page before the picture (once, at the first width). */
    act?: (p: Page) => Promise<void>;
  }
  const shot = (name: string, path: string, signedIn: boolean, more: Partial<Shot> = {}) => ({
    name,
    path,
    signedIn,
    ...more,
  });
  const shots: Shot[] = [
    shot("home", "/", false),
    shot("models", "/models", false),
    shot("docs", "/docs", false),
    shot("login", "/login", false),
    shot("playground", "/playground", true),
    shot("usage", "/usage", true),
    shot("generation", `/generations/${genId}`, true),
    shot("keys", "/keys", true),
    shot("billing", "/billing", true),
    shot("webhooks", "/webhooks", true),
    shot("settings", "/settings", true),
    // Issue 24's states: signed in on a public page, the filtered request log, a live run,
    // and the dark theme.
    shot("models-signed-in", "/models", true),
    shot("usage-filtered", "/usage?status=completed&key=playground", true),
    shot("playground-live", "/playground", true, { act: runInPlayground }),
    shot("home-dark", "/", false, { dark: true }),
    shot("playground-dark", "/playground", true, { dark: true }),
    shot("usage-dark", "/usage", true, { dark: true }),
    shot("generation-dark", `/generations/${genId}`, true, { dark: true }),
  ];
  const anon = await (await browser.createBrowserContext()).newPage();
  await setSessionCookie(browser, cookie);
  const page = await browser.newPage();
  for (const { name, path, signedIn, dark, act } of shots) {
    const p = signedIn ? page : anon;
    await p.emulateMediaFeatures([{
      name: "prefers-color-scheme",
      value: dark ? "dark" : "light",
    }]);
    for (const width of WIDTHS) {
      await p.setViewport({ width, height: width > 800 ? 900 : 844 });
      if (!act || width === WIDTHS[0]) {
        await p.goto(server.url + path, { waitUntil: "load" });
        await p.waitForFunction(() =>
          [...document.querySelectorAll("pv-island")].every((e) => e.hasAttribute("data-hydrated"))
        );
        if (act) await act(p);
      }
      await p.screenshot({ path: `${OUT}${name}-${width}.png`, fullPage: true });
    }
    console.log(`docs/screenshots/${name}-{${WIDTHS.join(",")}}.png`);
  }
} finally {
  await browser.close();
  await server.close();
}

/** Submits the Playground form and waits until the run is done and listed, without a reload. */
async function runInPlayground(p: Awaited<ReturnType<typeof browser.newPage>>) {
  await p.type("textarea[name=prompt]", "A kite over green hills");
  await p.click(".playground-form button[type=submit]");
  const id = await p.waitForFunction(() => {
    const status = document.querySelector("[data-testid=status]");
    return status?.textContent === "completed" &&
      document.querySelector("[data-testid=status] + a code")?.textContent;
  }, { timeout: 60_000 });
  await p.waitForFunction(
    (id) => document.querySelector(`#recent-runs-live [data-id="${id}"]`),
    { timeout: 20_000 },
    await id.jsonValue(),
  );
}
