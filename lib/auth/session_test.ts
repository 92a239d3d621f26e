import assert from "node:assert/strict";
import { safeNext } from "./session.ts";

Deno.test("safeNext keeps paths on this site, normalized", () => {
  assert.equal(safeNext("/keys"), "/keys");
  assert.equal(safeNext("/keys?x=1&y=%2F#top"), "/keys?x=1&y=%2F#top");
  assert.equal(safeNext("/a/./b/../c"), "/a/c");
  assert.equal(safeNext("/%2F%2Fevil.example"), "/%2F%2Fevil.example");
  assert.equal(safeNext("/%09/evil.example"), "/%09/evil.example");
  assert.equal(safeNext("/%5Cevil.example"), "/%5Cevil.example");
  assert.equal(safeNext("/usage?next=//evil.example"), "/usage?next=//evil.example");
});

Deno.test("safeNext refuses every spelling of another origin", () => {
  const spellings = [
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " /evil",
    "/ /evil.example",
    "/\u00a0/evil.example",
    "/\u2028/evil.example",
    "/\ufeff/evil.example",
    "/\u0000/evil.example",
    "/\u007f/evil.example",
    "/\u0085/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\\\\evil.example",
    "/a/..//evil.example",
    "/..//evil.example",
    "/.//evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,x",
    "https://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "evil.example",
    "",
    "/" + "a".repeat(2000),
  ];
  for (const next of spellings) {
    assert.equal(safeNext(next, "/home"), "/home", JSON.stringify(next));
  }
  assert.equal(safeNext(null), "/playground");
  assert.equal(safeNext(undefined), "/playground");
});

Deno.test("whatever safeNext returns resolves to this origin, also as a browser reads it", () => {
  const base = "https://pipevideo.example";
  const pieces = ["/", "//", "\\", "\t", "\n", ".", "..", "%2F", "%5C", "evil.example", ":", "@"];
  // Every three-piece combination: a small fuzz over the characters that matter.
  for (const a of pieces) {
    for (const b of pieces) {
      for (const c of pieces) {
        const next = safeNext("/" + a + b + c, "/fallback");
        assert.ok(next.startsWith("/") && !next.startsWith("//"), JSON.stringify(next));
        assert.equal(new URL(next, base).origin, base, JSON.stringify(next));
      }
    }
  }
});
