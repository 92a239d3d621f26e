import assert from "node:assert/strict";
import { randomToken, sha256Hex } from "./crypto.ts";

Deno.test("sha256Hex matches the standard test vector", () => {
  assert.equal(
    sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("randomToken: prefix + 2 hex characters per byte, different each time", () => {
  const a = randomToken(32, "pv_");
  assert.match(a, /^pv_[0-9a-f]{64}$/);
  assert.match(randomToken(16), /^[0-9a-f]{32}$/);
  assert.notEqual(randomToken(32), randomToken(32));
});
