import assert from "node:assert/strict";
import { createApp, createDefine, HttpError, type Manifest, page } from "./mod.ts";
import { Head } from "./render.ts";

interface State {
  trail: string[];
}
const define = createDefine<State>();
const info = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  completed: Promise.resolve(),
} as Deno.ServeHandlerInfo;

/** A small site exercising every convention, as file-system routing would load it. */
const manifest: Manifest = {
  baseUrl: import.meta.url,
  islands: {},
  routes: {
    "./routes/_app.tsx": {
      default: define.page(({ Component }) => (
        <html>
          <head>
            <title>t</title>
          </head>
          <body>
            <div id="app">
              <Component />
            </div>
          </body>
        </html>
      )),
    },
    "./routes/_middleware.ts": {
      handler: define.middleware(async (ctx) => {
        ctx.state.trail.push("root");
        const res = await ctx.next();
        res.headers.set("X-Trail", ctx.state.trail.join(">"));
        return res;
      }),
    },
    "./routes/admin/_middleware.ts": {
      handler: [
        define.middleware((ctx) => {
          ctx.state.trail.push("admin-1");
          return ctx.next();
        }),
        define.middleware((ctx) => {
          ctx.state.trail.push("admin-2");
          if (ctx.url.searchParams.has("deny")) throw new HttpError(403);
          return ctx.next();
        }),
      ],
    },
    "./routes/admin/index.ts": {
      handler: define.handlers((ctx) => new Response("admin:" + ctx.state.trail.join(">"))),
    },
    "./routes/(shop)/_layout.tsx": {
      default: define.page(({ Component }) => (
        <section class="shop-layout">
          <Component />
        </section>
      )),
    },
    "./routes/(shop)/items/[id].tsx": {
      handler: define.handlers({
        GET: (ctx) => page({ id: ctx.params.id }),
        POST: () => new Response("created", { status: 201 }),
      }),
      default: define.page<unknown, { id: string }>(({ data }) => (
        <p>
          <Head>
            <meta name="item" content={data.id} />
          </Head>
          item {data.id}
        </p>
      )),
    },
    "./routes/files/[...rest].ts": {
      handler: define.handlers((ctx) => Response.json(ctx.params)),
    },
    "./routes/about.tsx": { default: () => <p>about us</p> },
    "./routes/redirect.ts": { handler: define.handlers((ctx) => ctx.redirect("//evil.example/x")) },
    "./routes/boom.ts": {
      handler: () => {
        throw new Error("secret database detail");
      },
    },
    "./routes/_error.tsx": {
      default: define.page(({ error }) => (
        <p class="error">
          error {error instanceof HttpError ? error.status : 500}
        </p>
      )),
    },
    "./routes/api/_error.ts": {
      handler: define.handlers((ctx) => {
        const status = ctx.error instanceof HttpError ? ctx.error.status : 500;
        return Response.json({ status }, { status });
      }),
    },
    "./routes/api/thing.ts": { handler: { GET: () => Response.json({ ok: true }) } },
  },
};

const app = createApp<State>({ manifest, state: () => ({ trail: [] }) });
const get = (path: string, init?: RequestInit) =>
  app.handler(new Request("http://test.local" + path, init), info);

Deno.test("pages render inside _app and their group's _layout, with Head content", async () => {
  const res = await get("/items/42");
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.match(res.headers.get("Content-Type")!, /text\/html/);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(
    html,
    /<div id="app"><section class="shop-layout"><p>item 42<\/p><\/section><\/div>/,
  );
  assert.match(html, /<meta name="item" content="42"\/?><\/head>/);
  // A page with no island ships no JavaScript at all.
  assert.doesNotMatch(html, /<script/);
  // A page outside the group has no layout.
  assert.doesNotMatch(await (await get("/about")).text(), /shop-layout/);
});

Deno.test("middlewares run outermost first, scoped to their folder, arrays in order", async () => {
  const admin = await get("/admin");
  assert.equal(await admin.text(), "admin:root>admin-1>admin-2");
  assert.equal(admin.headers.get("X-Trail"), "root>admin-1>admin-2");
  const about = await get("/about");
  assert.equal(about.headers.get("X-Trail"), "root");
  await about.body?.cancel();
});

Deno.test("an error thrown in middleware becomes a response the outer middleware still sees", async () => {
  const res = await get("/admin?deny");
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("X-Trail"), "root>admin-1>admin-2");
  assert.match(await res.text(), /error 403/);
});

Deno.test("a missing method answers 405 with Allow; HEAD follows GET without a body", async () => {
  const del = await get("/items/1", { method: "DELETE" });
  assert.equal(del.status, 405);
  assert.equal(del.headers.get("Allow"), "GET, HEAD, POST");
  await del.body?.cancel();
  const post = await get("/items/1", { method: "POST" });
  assert.equal(post.status, 201);
  await post.body?.cancel();
  const head = await get("/items/1", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const pagePost = await get("/about", { method: "POST" });
  assert.equal(pagePost.status, 405);
  await pagePost.body?.cancel();
});

Deno.test("catch-all params and unknown paths", async () => {
  assert.deepEqual(await (await get("/files/a/b/c.txt")).json(), { rest: "a/b/c.txt" });
  const missing = await get("/nothing/here");
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /error 404/);
});

Deno.test("the nearest _error handles errors: JSON under /api, a page elsewhere", async () => {
  const apiMissing = await get("/api/nope");
  assert.equal(apiMissing.status, 404);
  assert.deepEqual(await apiMissing.json(), { status: 404 });
  const boom = await get("/boom");
  assert.equal(boom.status, 500);
  const body = await boom.text();
  assert.match(body, /error 500/);
  assert.doesNotMatch(body, /secret database detail/);
});

Deno.test("redirects stay on this site", async () => {
  const res = await get("/redirect");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("Location"), "/evil.example/x");
});
