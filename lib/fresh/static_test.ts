import assert from "node:assert/strict";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import {
  createStaticServer,
  fingerprinted,
  negotiateEncoding,
  resolveStaticPath,
} from "./static.ts";

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

Deno.test("static files: text is served brotli or gzip as negotiated, each with its ETag", async () => {
  await withSite(async (root) => {
    const css = "body{color:red}\n".repeat(200);
    await Deno.writeTextFile(join(root, "css", "site.css"), css);
    const serve = createStaticServer(root);
    const get = (enc?: string, etag?: string) =>
      serve(
        new Request("http://x/css/site.css", {
          headers: {
            ...(enc ? { "Accept-Encoding": enc } : {}),
            ...(etag ? { "If-None-Match": etag } : {}),
          },
        }),
        "/css/site.css",
      ).then((r) => r!);
    const plain = await get();
    assert.equal(plain.headers.get("Content-Encoding"), null);
    assert.equal(plain.headers.get("Vary"), "Accept-Encoding");
    assert.equal(await plain.text(), css);

    const br = await get("gzip, deflate, br");
    assert.equal(br.headers.get("Content-Encoding"), "br");
    const brBody = new Uint8Array(await br.arrayBuffer());
    assert.ok(brBody.length < css.length / 10, `${brBody.length} bytes`);
    assert.equal(new TextDecoder().decode(brotliDecompressSync(brBody)), css);

    const gz = await get("gzip");
    assert.equal(gz.headers.get("Content-Encoding"), "gzip");
    assert.equal(new TextDecoder().decode(gunzipSync(new Uint8Array(await gz.arrayBuffer()))), css);

    const etags = new Set([plain, br, gz].map((r) => r.headers.get("ETag")));
    assert.equal(etags.size, 3, "one ETag per encoding");
    assert.equal((await get("br", br.headers.get("ETag")!)).status, 304);
    assert.equal((await get("gzip", br.headers.get("ETag")!)).status, 200);

    // Images are not recompressed.
    const png = (await serve(
      new Request("http://x/logo.svg", { headers: { "Accept-Encoding": "br" } }),
      "/logo.svg",
    ))!;
    await png.body?.cancel();
    assert.equal(png.headers.get("Content-Encoding"), "br", "svg is text");
  });
});

Deno.test("Accept-Encoding: brotli first, then gzip; q=0 refuses", () => {
  assert.equal(negotiateEncoding("gzip, br"), "br");
  assert.equal(negotiateEncoding("br;q=0, gzip"), "gzip");
  assert.equal(negotiateEncoding("identity"), null);
  assert.equal(negotiateEncoding(null), null);
});

Deno.test("fingerprinted URLs change with the content and are cached for a year", async () => {
  await withSite(async (root) => {
    const url = fingerprinted(root, "/css/site.css");
    assert.match(url, /^\/css\/site\.css\?v=[0-9a-f]{16}$/);
    const serve = createStaticServer(root);
    const res = (await serve(new Request("http://x" + url), "/css/site.css"))!;
    await res.body?.cancel();
    assert.equal(res.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
    const stale = (await serve(new Request("http://x/css/site.css?v=0"), "/css/site.css"))!;
    await stale.body?.cancel();
    assert.equal(stale.headers.get("Cache-Control"), "public, max-age=3600, must-revalidate");
    assert.equal(fingerprinted(root, "/missing.css"), "/missing.css");
  });
});
