import assert from "node:assert/strict";
import { BadRequest } from "../errors.ts";
import { getBalance, verifyLedger } from "../db/ledger.ts";
import { getGeneration } from "../db/generations.ts";
import type { Resolver } from "../net/ssrf.ts";
import { fetchInputImage, ImageFetchError, MAX_IMAGE_BYTES, sniffImageType } from "./image.ts";
import { parseGenerationBody } from "./schema.ts";
import { createGeneration } from "./service.ts";
import { submitGeneration } from "./workers.ts";
import {
  fundedOrg,
  multiRouteModel,
  scriptedAdapter,
  testClock,
  testDeps,
  tinyImage,
} from "../../tests/support/generations.ts";

/** A local image host: each path answers as the table says; every hit is counted. */
function imageServer(routes: Record<string, () => Response>) {
  const hits: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.push(path);
    return (routes[path] ?? (() => new Response("not found", { status: 404 })))();
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const bytesOf = (b: Uint8Array, type: string) => () =>
  new Response(b.slice(), { headers: { "content-type": type } });

async function rejectsWith(p: Promise<unknown>, message: RegExp, retryable = false) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ImageFetchError, String(e));
    assert.match(e.message, message);
    assert.equal(e.retryable, retryable, e.message);
    return true;
  });
}

Deno.test("image types are told by their magic bytes", async () => {
  assert.equal(sniffImageType(await tinyImage("png")), "image/png");
  assert.equal(sniffImageType(await tinyImage("jpeg")), "image/jpeg");
  const ascii = (s: string) => new TextEncoder().encode(s);
  assert.equal(sniffImageType(ascii("GIF89a\x01\x00")), "image/gif");
  assert.equal(sniffImageType(ascii("RIFF\x10\x00\x00\x00WEBPVP8 ")), "image/webp");
  assert.equal(sniffImageType(ascii("RIFF\x10\x00\x00\x00WAVEfmt ")), null);
  assert.equal(sniffImageType(ascii("<!doctype html>")), null);
  assert.equal(sniffImageType(new Uint8Array(0)), null);
});

Deno.test("fetchInputImage: PNG and JPEG come back; too large, HTML, 404 and 5xx are refused", async () => {
  const png = await tinyImage("png");
  const jpeg = await tinyImage("jpeg");
  await using s = imageServer({
    "/a.png": bytesOf(png, "image/png"),
    // The Content-Type lies; the bytes decide.
    "/b": bytesOf(jpeg, "application/octet-stream"),
    "/big.png": () => {
      const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
      big.set(png);
      return new Response(big, { headers: { "content-type": "image/png" } });
    },
    "/page.html": () =>
      new Response("<!doctype html><p>hi</p>", { headers: { "content-type": "text/html" } }),
    "/down.png": () => new Response("busy", { status: 503 }),
    "/hop": () => new Response(null, { status: 302, headers: { location: "/a.png" } }),
  });
  const opts = { allowPrivate: true };
  const a = await fetchInputImage(`${s.url}/a.png`, opts);
  assert.equal(a.mimeType, "image/png");
  assert.deepEqual(a.bytes, png);
  const b = await fetchInputImage(`${s.url}/b`, opts);
  assert.equal(b.mimeType, "image/jpeg");
  assert.deepEqual(b.bytes, jpeg);
  assert.equal((await fetchInputImage(`${s.url}/hop`, opts)).mimeType, "image/png");
  await rejectsWith(fetchInputImage(`${s.url}/big.png`, opts), /larger than 10 MiB/);
  await rejectsWith(
    fetchInputImage(`${s.url}/page.html`, opts),
    /not a PNG, JPEG, WebP or GIF image \(text\/html/,
  );
  await rejectsWith(fetchInputImage(`${s.url}/gone.png`, opts), /HTTP 404/);
  await rejectsWith(fetchInputImage(`${s.url}/down.png`, opts), /HTTP 503/, true);
});

Deno.test("fetchInputImage in production: private targets and redirects to them are refused unfetched", async () => {
  await using s = imageServer({
    "/cat.png": () =>
      new Response(null, {
        status: 302,
        headers: { location: "http://169.254.169.254/latest/meta-data/" },
      }),
  });
  // images.example resolves to a public address; its requests are served by the local server.
  const resolve: Resolver = (host) =>
    Promise.resolve(host === "images.example" ? ["93.184.216.34"] : []);
  const viaLocal: typeof fetch = (input, init) =>
    fetch(s.url + new URL(input instanceof Request ? input.url : String(input)).pathname, init);
  const prod = { allowPrivate: false, resolve, fetch: viaLocal };
  await rejectsWith(
    fetchInputImage("http://images.example/cat.png", prod),
    /169\.254\.169\.254 is not allowed/,
  );
  assert.deepEqual(s.hits, ["/cat.png"]); // the metadata address was never requested
  for (const url of ["http://127.0.0.1/x.png", "http://[::1]/x.png", "http://localhost/x.png"]) {
    await rejectsWith(fetchInputImage(url, prod), /is not allowed/);
  }
  assert.deepEqual(s.hits, ["/cat.png"]);
});

Deno.test("file: and ftp: image URLs are refused at validation with param image_url", () => {
  for (const image_url of ["file:///etc/passwd", "ftp://example.com/a.png", "javascript:1"]) {
    assert.throws(
      () => parseGenerationBody({ model: "a/b", prompt: "p", image_url }),
      (e: unknown) => e instanceof BadRequest && e.param === "image_url",
      image_url,
    );
  }
  assert.throws(
    () => parseGenerationBody({ model: "a/b", prompt: "p", imageUrl: "file:///x" }),
    (e: unknown) => e instanceof BadRequest && e.param === "imageUrl",
  );
});

Deno.test("submit worker: the image's bytes reach the adapter; a bad image fails and refunds once", async () => {
  const png = await tinyImage("png");
  await using s = imageServer({ "/in.png": bytesOf(png, "image/png") });
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const gemini = scriptedAdapter("gemini", {});
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { gemini: gemini.adapter },
    models: [multiRouteModel("t/i2v", [["gemini", 7]])],
    allowPrivateUrls: true,
  });
  const org = await fundedOrg(kv, 20, clock.now());
  const body = (image_url: string) =>
    parseGenerationBody({ model: "t/i2v", prompt: "animate", image_url });

  const ok = await createGeneration(deps, org.id, body(`${s.url}/in.png`));
  assert.deepEqual(s.hits, []); // the POST never touches the network
  await submitGeneration(deps, ok.id);
  assert.equal((await getGeneration(kv, org.id, ok.id)).status, "processing");
  const sent = gemini.requests[0].image!;
  assert.equal(sent.url, `${s.url}/in.png`);
  assert.equal(sent.mimeType, "image/png");
  assert.deepEqual(sent.bytes, png);

  const bad = await createGeneration(deps, org.id, body(`${s.url}/missing.png`));
  assert.equal(await getBalance(kv, org.id), 6);
  await submitGeneration(deps, bad.id);
  await submitGeneration(deps, bad.id); // a duplicate delivery changes nothing
  const g = await getGeneration(kv, org.id, bad.id);
  assert.equal(g.status, "failed");
  assert.match(g.error_message!, /^image_url could not be used: .*HTTP 404/);
  assert.equal(gemini.calls.submit, 1); // the provider never saw the failed one
  assert.equal(await getBalance(kv, org.id), 13);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
});
