import type { Browser, BrowserContext, Page } from "puppeteer-core";
import axe from "axe-core";
import { signIn } from "./auth.ts";
import type { TestServer } from "./server.ts";

/** Gives the browser the session cookie `signIn` made, so its pages are signed in. */
export async function setSessionCookie(
  browser: Browser | BrowserContext,
  cookie: string,
): Promise<void> {
  const eq = cookie.indexOf("=");
  await browser.setCookie({
    name: cookie.slice(0, eq),
    value: cookie.slice(eq + 1),
    domain: "127.0.0.1",
    path: "/",
  });
}

/** Signs a user in (`signIn`'s options), gives `browser` their session cookie and opens a page. */
export async function signedInPage(
  server: TestServer,
  browser: Browser,
  opts?: Parameters<typeof signIn>[1],
) {
  const user = await signIn(server, opts);
  await setSessionCookie(browser, user.cookie);
  return { ...user, page: await browser.newPage() };
}

/**
 * Collects the page's uncaught errors and (unless `console` is false) its console errors, for a
 * test to assert none happened.
 */
export function pageErrors(page: Page, opts: { console?: boolean } = {}): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  if (opts.console ?? true) {
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  }
  return errors;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core (the npm package) run in the page: its violations of WCAG 2.x A/AA and best practice,
 * each with the selectors of the offending nodes. Injected over the DevTools protocol, so the
 * page's CSP does not apply to it.
 */
export async function axeViolations(
  page: Page,
  opts: { skipRules?: string[] } = {},
): Promise<AxeViolation[]> {
  // Once per document: a viewport change keeps the page and so the injected script.
  if (!await page.evaluate(() => "axe" in globalThis)) await page.evaluate(axe.source);
  return await page.evaluate(async (skip: string[]) => {
    // deno-lint-ignore no-explicit-any
    const r = await (globalThis as any).axe.run(document, {
      rules: Object.fromEntries(skip.map((id) => [id, { enabled: false }])),
      runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
      // Only violations are read: axe then skips collecting every passing node.
      resultTypes: ["violations"],
    });
    // deno-lint-ignore no-explicit-any
    return r.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      // deno-lint-ignore no-explicit-any
      targets: v.nodes.map((n: any) => String(n.target)),
    }));
  }, opts.skipRules ?? []);
}

/** How far the page scrolls sideways (0 when it does not). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return await page.evaluate(() =>
    Math.max(0, document.documentElement.scrollWidth - globalThis.innerWidth)
  );
}
