import assert from "node:assert/strict";
import { bearerToken } from "./bearer.ts";

Deno.test("bearerToken reads one token after the Bearer scheme, else null", () => {
  const req = (value?: string) =>
    new Request("http://x/", { headers: value === undefined ? {} : { Authorization: value } });
  assert.equal(bearerToken(req("Bearer pv_abc")), "pv_abc");
  assert.equal(bearerToken(req("bearer   pv_abc  ")), "pv_abc");
  for (const bad of [undefined, "", "Bearer", "Bearer ", "Basic pv_abc", "Bearer a b", "pv_abc"]) {
    assert.equal(bearerToken(req(bad)), null, String(bad));
  }
});
