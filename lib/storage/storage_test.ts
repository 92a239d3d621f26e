import assert from "node:assert/strict";
import { ProviderError } from "../providers/types.ts";
import {
  type DownloadOptions,
  parseRange,
  serveVideo,
  signVideoUrl,
  sniffVideoContainer,
  storeVideoFromFile,
  storeVideoFromUrl,
  verifyVideoSignature,
} from "./mod.ts";
import { makeTinyMp4, probeVideo } from "../../tests/support/video.ts";

const GEN = "gen_01JD0000000000000000000000";

async function withDataDir(fn: (dataDir: string) => Promise<void>) {
  const dataDir = await Deno.makeTempDir({ prefix: "pipevideo-storage-" });
  try {
    await fn(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Bytes that start like an MP4 (an `ftyp` box) followed by noise: enough for sniffing. */
function fakeMp4(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
  bytes.set([0, 0, 0, 24, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
  return bytes;
}

const EBML_WEBM = new Uint8Array([
  0x1a,
  0x45,
  0xdf,
  0xa3,
  0x9f,
  0x42,
  0x86,
  0x81,
  0x01,
  0x42,
  0xf7,
  0x81,
  0x01,
  0x42,
  0xf2,
  0x81,
  0x04,
  0x42,
  0xf3,
  0x81,
  0x08,
  0x42,
  0x82,
  0x84,
  0x77,
  0x65,
  0x62,
  0x6d,
  0x42,
  0x87,
  0x81,
  0x04,
]);

Deno.test("sniffVideoContainer recognises MP4, MOV, WebM and Matroska, and nothing else", () => {
  const enc = new TextEncoder();
  assert.equal(sniffVideoContainer(fakeMp4(64))?.contentType, "video/mp4");
  const mov = new Uint8Array([0, 0, 0, 20, ...enc.encode("ftypqt  "), 0, 0, 0, 0]);
  assert.equal(sniffVideoContainer(mov)?.contentType, "video/quicktime");
  assert.equal(sniffVideoContainer(EBML_WEBM)?.contentType, "video/webm");
  const mkv = EBML_WEBM.slice();
  mkv.set(enc.encode("matr"), 24);
  assert.equal(sniffVideoContainer(mkv)?.contentType, "video/x-matroska");
  assert.equal(sniffVideoContainer(enc.encode("<!doctype html><html>")), null);
  assert.equal(sniffVideoContainer(enc.encode('{"error":"expired"}')), null);
  assert.equal(sniffVideoContainer(new Uint8Array()), null);
  assert.equal(sniffVideoContainer(enc.encode("\x89PNG\r\n\x1a\n0000ftyp")), null);
});

// ---------------------------------------------------------------------------------------------
// Storing from a file

Deno.test("storeVideoFromFile copies a real MP4 into videos/ and keeps the source", async () => {
  await withDataDir(async (dataDir) => {
    const source = `${dataDir}/render.mp4`;
    await makeTinyMp4(source);
    const stored = await storeVideoFromFile(dataDir, GEN, source);
    const size = (await Deno.stat(source)).size;
    assert.deepEqual(stored, { bytes: size, contentType: "video/mp4" });
    assert.equal((await probeVideo(`${dataDir}/videos/${GEN}.mp4`)).codec, "h264");
    assert.ok((await Deno.stat(source)).isFile);
    assert.deepEqual(Array.from(Deno.readDirSync(`${dataDir}/videos`), (e) => e.name), [
      `${GEN}.mp4`,
    ]);
  });
});

Deno.test("storeVideoFromFile refuses a missing file or one that is not a video", async () => {
  await withDataDir(async (dataDir) => {
    await assert.rejects(
      storeVideoFromFile(dataDir, GEN, `${dataDir}/nope.mp4`),
      (err) => err instanceof ProviderError && !err.retryable && /does not exist/.test(err.message),
    );
    await Deno.writeTextFile(`${dataDir}/page.mp4`, "<html>not a video</html>");
    await assert.rejects(
      storeVideoFromFile(dataDir, GEN, `${dataDir}/page.mp4`),
      (err) => err instanceof ProviderError && !err.retryable && /not an MP4/.test(err.message),
    );
    await assert.rejects(storeVideoFromFile(dataDir, "../escape", `${dataDir}/page.mp4`));
  });
});

// ---------------------------------------------------------------------------------------------
// Storing from a URL, against a real local HTTP server

interface Upstream {
  url: string;
  requests: Request[];
  close(): Promise<void>;
}

function startUpstream(mp4: Uint8Array<ArrayBuffer>): Upstream {
  const requests: Request[] = [];
  const stalled: ReadableStreamDefaultController<Uint8Array>[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    requests.push(req);
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/good.mp4":
        return new Response(mp4, { headers: { "content-type": "video/mp4" } });
      case "/good.webm":
        return new Response(EBML_WEBM, { headers: { "content-type": "application/octet-stream" } });
      case "/private.mp4":
        return req.headers.get("authorization") === "Key s3cret"
          ? new Response(mp4)
          : new Response("unauthorized", { status: 401 });
      case "/expired.mp4":
        return new Response("<Error>Request has expired</Error>", { status: 403 });
      case "/missing.mp4":
        return new Response("not found", { status: 404 });
      case "/boom.mp4":
        return new Response("internal error", { status: 500 });
      case "/busy.mp4":
        return new Response("slow down", { status: 429, headers: { "retry-after": "7" } });
      case "/page.html":
        return new Response("<!doctype html><title>Sign in</title>", {
          headers: { "content-type": "video/mp4" }, // lies, as some CDNs do
        });
      case "/declared-huge.mp4":
        return new Response(fakeMp4(200_000));
      case "/endless.mp4": {
        // No Content-Length: the cap must be enforced while streaming.
        let sent = 0;
        return new Response(
          new ReadableStream({
            pull(c) {
              c.enqueue(sent === 0 ? fakeMp4(16_384) : new Uint8Array(16_384));
              sent++;
            },
          }),
        );
      }
      case "/stall.mp4":
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(fakeMp4(64));
              stalled.push(c); // never finished: the client must give up
            },
          }),
        );
      default:
        return new Response("no route", { status: 404 });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async close() {
      for (const c of stalled) {
        try {
          c.close();
        } catch { /* already cancelled by the client going away */ }
      }
      await server.shutdown();
    },
  };
}

async function withUpstream(fn: (up: Upstream, dataDir: string) => Promise<void>) {
  await withDataDir(async (dataDir) => {
    await makeTinyMp4(`${dataDir}/source.mp4`);
    const up = startUpstream(await Deno.readFile(`${dataDir}/source.mp4`));
    try {
      await fn(up, dataDir);
    } finally {
      await up.close();
    }
  });
}

const download = (over: Partial<DownloadOptions> = {}): DownloadOptions => ({
  fetch,
  maxBytes: 100_000,
  timeoutMs: 5_000,
  allowPrivate: true,
  ...over,
});

/** Files under videos/ (none when a refused download never created the folder). */
function leftovers(dataDir: string): string[] {
  try {
    return Array.from(Deno.readDirSync(`${dataDir}/videos`), (e) => e.name).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

Deno.test("storeVideoFromUrl downloads a real MP4 and stores it by generation id", async () => {
  await withUpstream(async (up, dataDir) => {
    const stored = await storeVideoFromUrl(dataDir, GEN, { url: `${up.url}/good.mp4` }, download());
    const expected = await Deno.readFile(`${dataDir}/source.mp4`);
    assert.deepEqual(stored, { bytes: expected.length, contentType: "video/mp4" });
    assert.deepEqual(await Deno.readFile(`${dataDir}/videos/${GEN}.mp4`), expected);
    assert.equal((await probeVideo(`${dataDir}/videos/${GEN}.mp4`)).codec, "h264");
    assert.deepEqual(leftovers(dataDir), [`${GEN}.mp4`]);
  });
});

Deno.test("storeVideoFromUrl sends the provider's headers and detects WebM by signature", async () => {
  await withUpstream(async (up, dataDir) => {
    const stored = await storeVideoFromUrl(
      dataDir,
      GEN,
      { url: `${up.url}/private.mp4`, headers: { authorization: "Key s3cret" } },
      download(),
    );
    assert.equal(stored.contentType, "video/mp4");
    // A re-download in another container replaces the first copy.
    const webm = await storeVideoFromUrl(dataDir, GEN, { url: `${up.url}/good.webm` }, download());
    assert.deepEqual(webm, { bytes: EBML_WEBM.length, contentType: "video/webm" });
    assert.deepEqual(leftovers(dataDir), [`${GEN}.webm`]);
  });
});

const failures: [string, Partial<DownloadOptions>, boolean, RegExp, number | undefined][] = [
  ["/missing.mp4", {}, false, /gone \(HTTP 404\).*expired/, 404],
  ["/expired.mp4", {}, false, /refused \(HTTP 403\)/, 403],
  ["/private.mp4", {}, false, /HTTP 401/, 401],
  ["/boom.mp4", {}, true, /HTTP 500/, 500],
  ["/busy.mp4", {}, true, /HTTP 429/, 429],
  ["/page.html", {}, false, /not a video \(video\/mp4, \d+ bytes/, undefined],
  ["/declared-huge.mp4", {}, false, /larger than the 100000-byte limit/, undefined],
  ["/endless.mp4", {}, false, /larger than the 100000-byte limit/, undefined],
  ["/stall.mp4", { timeoutMs: 300 }, true, /timed out after 300 ms/, undefined],
];

for (const [path, over, retryable, message, status] of failures) {
  Deno.test(`storeVideoFromUrl ${path}: ProviderError, retryable=${retryable}`, async () => {
    await withUpstream(async (up, dataDir) => {
      await assert.rejects(
        storeVideoFromUrl(dataDir, GEN, { url: `${up.url}${path}?sig=SECRET` }, download(over)),
        (err) => {
          assert.ok(err instanceof ProviderError, String(err));
          assert.equal(err.retryable, retryable);
          assert.match(err.message, message);
          assert.equal(err.status, status);
          assert.ok(!err.message.includes("SECRET"), "query strings stay out of messages");
          return true;
        },
      );
      assert.deepEqual(leftovers(dataDir), [], "no partial file is left behind");
    });
  });
}

Deno.test("storeVideoFromUrl passes Retry-After on 429", async () => {
  await withUpstream(async (up, dataDir) => {
    await assert.rejects(
      storeVideoFromUrl(dataDir, GEN, { url: `${up.url}/busy.mp4` }, download()),
      (err) => err instanceof ProviderError && err.retryAfterMs === 7000,
    );
  });
});

Deno.test("storeVideoFromUrl: a connection refused is retryable", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(),
  );
  const url = `http://127.0.0.1:${server.addr.port}/gone.mp4`;
  await server.shutdown();
  await withDataDir(async (dataDir) => {
    await assert.rejects(
      storeVideoFromUrl(dataDir, GEN, { url }, download()),
      (err) => err instanceof ProviderError && err.retryable && /failed:/.test(err.message),
    );
  });
});

Deno.test("production: a provider link redirecting to a private address fails for good, nothing sent there", async () => {
  let base = "";
  const hits: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const { pathname, search } = new URL(req.url);
    hits.push(pathname);
    if (pathname === "/to-loopback") return Response.redirect(`${base}/secret.mp4`, 302);
    if (pathname === "/to-metadata") {
      return Response.redirect("http://169.254.169.254/latest/meta-data/", 307);
    }
    if (pathname === "/to-localhost") return Response.redirect("http://localhost/x.mp4", 301);
    if (pathname.startsWith("/hop")) {
      const n = Number(pathname.slice(4));
      return Response.redirect(`https://cdn${n % 2}.example/hop${n + 1}${search}`, 302);
    }
    return new Response(fakeMp4(2000));
  });
  base = `http://127.0.0.1:${server.addr.port}`;
  // Public-looking names go to the local server; 127.0.0.1 is reached for real (so a hit would
  // show); anything else would leave the machine and is only recorded.
  const elsewhere: string[] = [];
  const routed: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.hostname.endsWith(".example")) {
      return fetch(`${base}${url.pathname}${url.search}`, init);
    }
    if (url.hostname === "127.0.0.1") return fetch(url, init);
    elsewhere.push(url.href);
    return Promise.reject(new TypeError("test: no traffic beyond 127.0.0.1"));
  };
  const production = download({
    allowPrivate: false,
    fetch: routed,
    resolve: () => Promise.resolve(["93.184.215.14"]),
  });
  try {
    await withDataDir(async (dataDir) => {
      for (const path of ["/to-loopback", "/to-metadata", "/to-localhost"]) {
        const url = `https://provider.example${path}?sig=SECRET`;
        await assert.rejects(storeVideoFromUrl(dataDir, GEN, { url }, production), (err) => {
          assert.ok(err instanceof ProviderError, String(err));
          assert.equal(err.retryable, false, path);
          assert.match(err.message, /refused: URL host .* is not allowed/);
          assert.ok(!err.message.includes("SECRET"), "query strings stay out of messages");
          return true;
        });
      }
      assert.deepEqual(hits, ["/to-loopback", "/to-metadata", "/to-localhost"]);
      assert.deepEqual(elsewhere, []);
      // The provider's own link on a private address is refused before any request, too.
      await assert.rejects(
        storeVideoFromUrl(dataDir, GEN, { url: `${base}/ok.mp4` }, production),
        (err) => err instanceof ProviderError && !err.retryable,
      );
      assert.equal(hits.length, 3);

      // Public hops are followed, at most three of them.
      hits.length = 0;
      const stored = await storeVideoFromUrl(
        dataDir,
        GEN,
        { url: "https://cdn1.example/hop1?sig=S" },
        { ...production, fetch: (input, init) => routed(stop(input, 4), init) },
      );
      assert.equal(stored.contentType, "video/mp4");
      assert.deepEqual(hits, ["/hop1", "/hop2", "/hop3", "/done"]);
      await assert.rejects(
        storeVideoFromUrl(dataDir, GEN, { url: "https://cdn1.example/hop1?sig=S" }, production),
        (err) =>
          err instanceof ProviderError && !err.retryable &&
          /redirects more than 3/.test(err.message),
      );
      assert.deepEqual(leftovers(dataDir), [`${GEN}.mp4`]);
    });
  } finally {
    await server.shutdown();
  }
});

/** Rewrites a request for /hop<n> (n ≥ last) to /done, ending a redirect chain there. */
function stop(input: string | URL | Request, last: number): string {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const n = Number(url.pathname.slice(4));
  if (url.pathname.startsWith("/hop") && n >= last) url.pathname = "/done";
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Signed URLs

const SECRET = "test-secret-key-0123456789abcdef0123456789";

Deno.test("signVideoUrl makes a URL that verifies until it expires", async () => {
  const url = new URL(await signVideoUrl("http://localhost:3001/", SECRET, GEN, 1_800_000_000));
  assert.equal(url.origin + url.pathname, `http://localhost:3001/files/videos/${GEN}.mp4`);
  const exp = url.searchParams.get("exp");
  const sig = url.searchParams.get("sig");
  assert.equal(exp, "1800000000");
  assert.match(sig!, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, sig, 1_799_999_999), true);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, sig, 1_800_000_000), true);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, sig, 1_800_000_001), false, "expired");
});

Deno.test("verifyVideoSignature refuses anything tampered with", async () => {
  const url = new URL(await signVideoUrl("http://x", SECRET, GEN, 2_000_000_000));
  const exp = url.searchParams.get("exp")!;
  const sig = url.searchParams.get("sig")!;
  const now = 1_900_000_000;
  const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
  const otherGen = "gen_01JD0000000000000000000001";
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, flipped, now), false);
  assert.equal(await verifyVideoSignature(SECRET, otherGen, exp, sig, now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, "2000000001", sig, now), false);
  assert.equal(await verifyVideoSignature(`${SECRET}x`, GEN, exp, sig, now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, null, sig, now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, null, now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, "2e9", sig, now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, `${sig}=`, now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, sig.slice(0, 42), now), false);
  assert.equal(await verifyVideoSignature(SECRET, GEN, exp, sig, now), true);
});

// ---------------------------------------------------------------------------------------------
// Serving with ranges, against a real local HTTP server

async function withServedVideo(
  bytes: Uint8Array,
  fn: (get: (init?: RequestInit, genId?: string) => Promise<Response>) => Promise<void>,
) {
  await withDataDir(async (dataDir) => {
    await Deno.writeFile(`${dataDir}/render.mp4`, bytes);
    await storeVideoFromFile(dataDir, GEN, `${dataDir}/render.mp4`);
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      (req) => serveVideo(req, dataDir, new URL(req.url).pathname.slice(1)),
    );
    try {
      await fn((init, genId = GEN) => fetch(`http://127.0.0.1:${server.addr.port}/${genId}`, init));
    } finally {
      await server.shutdown();
    }
  });
}

const SIZE = 300_000; // several 64 KiB reads
const VIDEO = fakeMp4(SIZE);
const body = async (res: Response) => new Uint8Array(await res.arrayBuffer());

Deno.test("serveVideo streams the whole file with type, length, ETag and caching", async () => {
  await withServedVideo(VIDEO, async (get) => {
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "video/mp4");
    assert.equal(res.headers.get("content-length"), String(SIZE));
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    assert.match(res.headers.get("etag")!, /^"[0-9a-z]+-[0-9a-z]+"$/);
    assert.match(res.headers.get("cache-control")!, /max-age=\d+/);
    assert.deepEqual(await body(res), VIDEO);
  });
});

Deno.test("serveVideo answers byte ranges: closed, open-ended, suffix, clamped", async () => {
  await withServedVideo(VIDEO, async (get) => {
    const cases: [string, number, number][] = [
      ["bytes=0-99", 0, 99],
      ["bytes=65530-131080", 65530, 131080], // crosses read boundaries
      ["bytes=299000-", 299000, SIZE - 1],
      ["bytes=-500", SIZE - 500, SIZE - 1],
      ["bytes=-999999", 0, SIZE - 1],
      ["bytes=299990-400000", 299990, SIZE - 1],
      ["bytes=7-7", 7, 7],
    ];
    for (const [range, start, end] of cases) {
      const res = await get({ headers: { range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get("content-range"), `bytes ${start}-${end}/${SIZE}`, range);
      assert.equal(res.headers.get("content-length"), String(end - start + 1), range);
      assert.deepEqual(await body(res), VIDEO.subarray(start, end + 1), range);
    }
  });
});

Deno.test("serveVideo: unsatisfiable ranges get 416, unusable ones the whole file", async () => {
  await withServedVideo(VIDEO, async (get) => {
    for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 10}-${SIZE + 20}`, "bytes=-0"]) {
      const res = await get({ headers: { range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get("content-range"), `bytes */${SIZE}`);
      await res.body?.cancel();
    }
    for (const range of ["bytes=0-1,5-6", "items=0-1", "bytes=9-3", "bytes=abc"]) {
      const res = await get({ headers: { range } });
      assert.equal(res.status, 200, range);
      assert.equal((await body(res)).length, SIZE, range);
    }
  });
});

Deno.test("serveVideo: HEAD has the headers and no body", async () => {
  await withServedVideo(VIDEO, async (get) => {
    const head = await get({ method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(SIZE));
    assert.equal(head.headers.get("content-type"), "video/mp4");
    assert.equal((await body(head)).length, 0);
    const ranged = await get({ method: "HEAD", headers: { range: "bytes=10-19" } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("content-length"), "10");
    assert.equal(ranged.headers.get("content-range"), `bytes 10-19/${SIZE}`);
    await ranged.body?.cancel();
  });
});

Deno.test("serveVideo: conditional requests use the ETag", async () => {
  await withServedVideo(VIDEO, async (get) => {
    const first = await get({ method: "HEAD" });
    const etag = first.headers.get("etag")!;
    const cached = await get({ headers: { "if-none-match": etag } });
    assert.equal(cached.status, 304);
    await cached.body?.cancel();
    const stale = await get({ headers: { range: "bytes=0-9", "if-range": '"other"' } });
    assert.equal(stale.status, 200, "If-Range with another ETag sends the whole file");
    assert.equal((await body(stale)).length, SIZE);
    const fresh = await get({ headers: { range: "bytes=0-9", "if-range": etag } });
    assert.equal(fresh.status, 206);
    assert.equal((await body(fresh)).length, 10);
  });
});

Deno.test("serveVideo: unknown or malformed ids are 404", async () => {
  await withServedVideo(VIDEO, async (get) => {
    for (const id of ["gen_01JD0000000000000000000009", "..%2Fsecret_key", ""]) {
      const res = await get(undefined, id);
      assert.equal(res.status, 404, id);
      assert.equal((await res.json()).error.code, "not_found");
    }
  });
});

Deno.test("serveVideo: a client that hangs up mid-stream does not leak the file", async () => {
  await withServedVideo(VIDEO, async (get) => {
    const res = await get();
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    // The test sanitizers fail this test if the file handle stays open.
  });
});

Deno.test("parseRange edge cases", () => {
  assert.deepEqual(parseRange("bytes=0-0", 1), { start: 0, end: 0 });
  assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  assert.equal(parseRange("bytes=-", 10), null);
  assert.deepEqual(parseRange(" bytes=2-4 ", 10), { start: 2, end: 4 });
});

Deno.test("a provider download redirected to another host does not carry the provider key", async () => {
  const seen: (string | null)[] = [];
  const cdn = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    seen.push(req.headers.get("x-goog-api-key"));
    return new Response(null, { status: 404 });
  });
  const api = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () =>
      new Response(null, {
        status: 302,
        headers: { Location: `http://localhost:${cdn.addr.port}/video.mp4` },
      }),
  );
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(storeVideoFromUrl(
      dir,
      "gen_01J0000000000000000000000A",
      {
        url: `http://127.0.0.1:${api.addr.port}/v1beta/files/x:download`,
        headers: { "x-goog-api-key": "SECRET-GEMINI" },
      },
      { fetch, maxBytes: 1024, timeoutMs: 5000, allowPrivate: true },
    ));
    assert.deepEqual(seen, [null], "the redirect was followed, without the key");
  } finally {
    await cdn.shutdown();
    await api.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
