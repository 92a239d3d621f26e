/**
 * The fast lane (`deno task test:unit`, PIPEVIDEO_TEST_LANE=unit) runs no browser, Swift, ffmpeg
 * or second process. The helpers that start one call this first, so a test in the wrong lane
 * fails with a clear message instead of quietly making the lane slow.
 */
export function notInUnitLane(what: string): void {
  if (Deno.env.get("PIPEVIDEO_TEST_LANE") !== "unit") return;
  throw new Error(
    `${what} is not for the unit lane: put this test under tests/ or list it in ` +
      "scripts/run_tests.ts's NOT_UNIT",
  );
}
