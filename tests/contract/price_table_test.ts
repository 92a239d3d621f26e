/**
 * The whole catalog as a table: for every route x option combination, the price is what the
 * request our adapter builds asks the provider to make (duration, resolution, audio), read back
 * from the upstream body in the provider's own field names.
 */
import assert from "node:assert/strict";
import { audioOn, priceOn, routePrice } from "../../lib/catalog/mod.ts";
import { askedOfUpstream, catalogCases } from "../support/contract_cases.ts";

const MARGIN = 1.25;

Deno.test("price table: every route x option is priced for exactly what the provider is asked to do", () => {
  const cases = catalogCases();
  assert.ok(cases.length > 1000, `${cases.length} cases`);
  let withAudio = 0;
  for (const c of cases) {
    const asked = askedOfUpstream(c);
    assert.equal(asked.duration, c.req.duration, `${c.name}: duration sent`);
    assert.equal(asked.resolution, c.req.resolution, `${c.name}: resolution made`);
    assert.equal(asked.audio, audioOn(c.route, c.req), `${c.name}: audio sent vs priced`);
    const p = routePrice(c.route, MARGIN);
    const table = asked.audio && p.audioCents ? p.audioCents : p.cents;
    const perUnit = table[asked.resolution!];
    assert.equal(typeof perUnit, "number", `${c.name}: no price for ${asked.resolution}`);
    const expected = p.unit === "second" ? perUnit * asked.duration : perUnit;
    assert.equal(priceOn(c.route, c.req, MARGIN), expected, c.name);
    // Never below what the upstream bills for what it is asked to make.
    const cost =
      (asked.audio && c.route.cost.audioCents ? c.route.cost.audioCents : c.route.cost.cents)[
        asked.resolution!
      ];
    assert.ok(expected >= cost * (p.unit === "second" ? asked.duration : 1), c.name);
    if (asked.audio) withAudio++;
  }
  assert.ok(withAudio > 100, "audio cases are in the table");
});
