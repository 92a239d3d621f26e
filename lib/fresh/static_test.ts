import assert from "node:assert/strict";
import { join } from "node:path";
import { createStaticServer, resolveStaticPath } from "./static.ts";

async function withSite(fn: (root: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const root = join(dir, "static");
  await Deno.mkdir(join(root, "css"), { recursive: true });
  await Deno.writeTextFile(join(root, "css", "site.css"), "body{color:red}");
  await Deno.writeTextFile(join(root, "logo.svg"), "<svg/>");
  await Deno.writeTextFile(join(dir, "secret.txt"), "TOP SECRET");
  try {
    await fn(root);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("static files: content type, ETag, 304 on If-None-Match, HEAD", async () => {
  await withSite(async (root) => {
    const serve = createStaticServer(root);
    const req = (path: string, init?: RequestInit) => new Request("http://x" + path, init);
    const res = (await serve(req("/css/site.css"), "/css/site.css"))!;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Content-Type"), "text/css; charset=utf-8");
    assert.equal(res.headers.get("Content-Length"), "15");
    assert.equal(await res.text(), "body{color:red}");
    const etag = res.headers.get("ETag")!;
    assert.match(etag, /^"[0-9a-f]{24}"$/);
    const again = (await serve(
      req("/css/site.css", { headers: { "If-None-Match": `W/"nope", ${etag}` } }),
      "/css/site.css",
    ))!;
    assert.equal(again.status, 304);
    assert.equal(again.body, null);
    const head = (await serve(req("/logo.svg", { method: "HEAD" }), "/logo.svg"))!;
    assert.equal(head.headers.get("Content-Type"), "image/svg+xml");
    assert.equal(head.body, null);
    assert.equal(await serve(req("/missing.css"), "/missing.css"), null);
    assert.equal(await serve(req("/css"), "/css"), null, "a folder is not a file");
    assert.equal(await serve(req("/logo.svg", { method: "POST" }), "/logo.svg"), null);
  });
});

Deno.test("static files: no traversal out of the folder, however it is spelled", async () => {
  await withSite(async (root) => {
    const serve = createStaticServer(root);
    const attempts = [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/%2E%2E%2Fsecret.txt",
      "/css/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "/%5c..%5csecret.txt",
      "//secret.txt/../../secret.txt",
      "/%00../secret.txt",
      "/css/%2e%2e/%2e%2e/secret.txt",
      "/%252e%252e/secret.txt",
      "/" + join(root, "..", "secret.txt"),
    ];
    for (const path of attempts) {
      // Paths arrive raw here, as a server may see them before URL normalisation.
      const res = await serve(new Request("http://x/"), path);
      if (res) {
        const text = await res.text();
        assert.doesNotMatch(text, /TOP SECRET/, path);
      }
      const resolved = resolveStaticPath(root, path);
      assert.ok(resolved === null || resolved.startsWith(root), `${path} -> ${resolved}`);
    }
  });
});
