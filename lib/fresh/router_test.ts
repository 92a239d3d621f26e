import assert from "node:assert/strict";
import { classifyRouteFile, createMatcher } from "./router.ts";

Deno.test("file names become Fresh's URL patterns", () => {
  const cases: [string, string, string][] = [
    ["index.tsx", "/", "route"],
    ["about.tsx", "/about", "route"],
    ["v1/video/generations/index.ts", "/v1/video/generations", "route"],
    ["v1/video/generations/[id].ts", "/v1/video/generations/:id", "route"],
    ["v1/video/generations/[id]/cancel.ts", "/v1/video/generations/:id/cancel", "route"],
    ["docs/[...rest].tsx", "/docs/:rest*", "route"],
    ["(dashboard)/keys.tsx", "/keys", "route"],
    ["(dashboard)/_layout.tsx", "/", "layout"],
    ["v1/_middleware.ts", "/v1", "middleware"],
    ["_app.tsx", "/", "app"],
    ["_error.tsx", "/", "error"],
  ];
  for (const [file, pattern, kind] of cases) {
    const r = classifyRouteFile(file);
    assert.equal(r.pattern, pattern, file);
    assert.equal(r.kind, kind, file);
  }
});

Deno.test("static segments win over params, params over catch-alls, in any file order", () => {
  const m = createMatcher([
    { pattern: "/:rest*", value: "catchall" },
    { pattern: "/models/:slug", value: "param" },
    { pattern: "/models/new", value: "static" },
    { pattern: "/models", value: "index" },
  ]);
  assert.equal(m.match("/models/new")?.value, "static");
  assert.equal(m.match("/models/veo")?.value, "param");
  assert.equal(m.match("/models")?.value, "index");
  assert.equal(m.match("/a/b/c")?.value, "catchall");
  assert.deepEqual(m.match("/a/b/c")?.params, { rest: "a/b/c" });
});

Deno.test("params are URL-decoded, so an encoded slash in a slug survives", () => {
  const m = createMatcher([{ pattern: "/v1/models/:slug", value: 1 }]);
  assert.deepEqual(m.match("/v1/models/google%2Fveo-3.1")?.params, { slug: "google/veo-3.1" });
  assert.equal(m.match("/v1/models/a/b"), null);
  // A malformed escape does not throw; the raw text is kept.
  assert.deepEqual(m.match("/v1/models/%E0%A4%A")?.params, { slug: "%E0%A4%A" });
});
