import assert from "node:assert/strict";
import { isId, newId } from "./ids.ts";

Deno.test("isId accepts ids newId makes and nothing else", () => {
  assert.ok(isId("gen", newId("gen")));
  assert.ok(isId("org", "org_01JD0000000000000000000000"));
  for (
    const bad of [
      "",
      "gen_",
      "org_01JD0000000000000000000000", // another type
      "gen_01JD000000000000000000000", // 25 characters
      "gen_01JD00000000000000000000000", // 27 characters
      "gen_01JD000000000000000000000U", // U is not Crockford base32
      "gen_01jd0000000000000000000000", // ulid writes upper case
      "gen-01JD0000000000000000000000",
      "gen_" + "A".repeat(3000),
      "gen_01JD00000000000000000000\u00e9",
    ]
  ) assert.equal(isId("gen", bad), false, bad.slice(0, 40));
});
