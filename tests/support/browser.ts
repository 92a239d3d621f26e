import puppeteer, { type Browser } from "puppeteer-core";
import { notInUnitLane } from "./lane.ts";

/** Debian's Chromium, headless; never a browser download of puppeteer's own. */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<Browser> {
  notInUnitLane("Chromium");
  return await puppeteer.launch({
    executablePath: CHROMIUM,
    userDataDir: await Deno.makeTempDir({ prefix: "pv-chromium-" }),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Screenshots go to test-output/ (not committed) for a reviewer to look at. */
export async function screenshotDir(): Promise<string> {
  const dir = new URL("../../test-output/screenshots/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}
