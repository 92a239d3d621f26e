import { type ComponentType, h, type VNode } from "preact";
import {
  type Context,
  HttpError,
  isPageResponse,
  type Method,
  type Middleware,
  type PageProps,
  type RouteHandler,
} from "./context.ts";
import {
  classifyRouteFile,
  createMatcher,
  dirMatcher,
  folderContains,
  folderOf,
  type RouteFile,
} from "./router.ts";
import { insertBefore, registerIsland, renderDocument, scriptJson } from "./render.ts";
import { BUILD_PREFIX, buildIslands, type BuiltAssets } from "./islands.ts";
import { createStaticServer, fileResponse, type StaticFile } from "./static.ts";
import { fromFileUrl } from "./paths.ts";

/** A route module as file-system routing sees it. */
// deno-lint-ignore no-explicit-any
type AnyComponent = ComponentType<any>;

/** A route module as file-system routing sees it (typed loosely: each route has its own State). */
export interface RouteModule {
  handler?: unknown;
  default?: AnyComponent;
}

export interface Manifest {
  /** "./routes/v1/index.ts" -> module */
  routes: Record<string, RouteModule>;
  /** "./islands/Counter.tsx" -> module */
  islands: Record<string, { default: AnyComponent }>;
  /** The manifest file's own URL; route and island paths are relative to it. */
  baseUrl: string;
}

export interface AppOptions<State> {
  manifest: Manifest;
  /** Folder of static files; omitted: none. */
  staticDir?: string;
  /** The state every request starts with. */
  state: (req: Request) => State;
  minify?: boolean;
}

interface LoadedFile extends RouteFile {
  module: RouteModule;
  /** Whether this file's URL dir is a prefix of a path (middlewares and error pages). */
  inDir: (pathname: string) => boolean;
}

const METHODS: Method[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

export function islandName(key: string): string {
  return key.replace(/^\.\/islands\//, "").replace(/\.(tsx|jsx|ts|js)$/, "").replaceAll("/", "_");
}

export function createApp<State>(opts: AppOptions<State>) {
  const files: LoadedFile[] = Object.entries(opts.manifest.routes).map(([key, module]) => ({
    ...classifyRouteFile(key.replace(/^\.\/routes\//, "")),
    module,
    inDir: () => true,
  }));
  for (const f of files) f.inDir = dirMatcher(f.dir);
  const routes = files.filter((f) => f.kind === "route");
  const middlewares = files.filter((f) => f.kind === "middleware");
  const layouts = files.filter((f) => f.kind === "layout");
  const errors = files.filter((f) => f.kind === "error");
  const appFile = files.find((f) => f.kind === "app");
  const matcher = createMatcher(routes.map((r) => ({ pattern: r.pattern, value: r })));
  const serveStatic = opts.staticDir ? createStaticServer(opts.staticDir) : null;

  const islandFiles: Record<string, string> = {};
  for (const [key, mod] of Object.entries(opts.manifest.islands)) {
    const name = islandName(key);
    islandFiles[name] = fromFileUrl(new URL(key, opts.manifest.baseUrl));
    registerIsland({ name, component: mod.default });
  }
  let assets: Promise<BuiltAssets> | null = null;
  const builtFiles = new Map<string, StaticFile>();
  const build = () => assets ??= buildIslands(islandFiles, { minify: opts.minify });

  const chainOf = (files: LoadedFile[]) =>
    files.sort(byDepth).flatMap((m) =>
      [m.module.handler as Middleware<State> | Middleware<State>[]].flat()
    );
  // A matched route's middlewares go by its folder (groups count), computed once per route.
  const routeChains = new Map(routes.map((r) => [
    r,
    chainOf(middlewares.filter((m) => folderContains(folderOf(m.file), folderOf(r.file)))),
  ]));
  const urlMiddlewares = middlewares.filter((m) => !m.file.includes("("));
  const urlErrors = errors.filter((e) => !e.file.includes("(")).sort(byDepth);

  /** Middlewares for a path no route matched: by URL dir. */
  function middlewaresFor(route: LoadedFile | null, pathname: string): Middleware<State>[] {
    if (route) return routeChains.get(route)!;
    return chainOf(urlMiddlewares.filter((m) => m.inDir(pathname)));
  }

  function errorFileFor(pathname: string): LoadedFile | undefined {
    return urlErrors.findLast((e) => e.inDir(pathname));
  }

  async function renderPage(
    ctx: Context<State>,
    route: LoadedFile | null,
    Page: ComponentType<PageProps<unknown, State>>,
    data: unknown,
    init: ResponseInit = {},
  ): Promise<Response> {
    const props: Omit<PageProps<unknown, State>, "Component"> = {
      data,
      url: ctx.url,
      params: ctx.params,
      state: ctx.state,
      route: ctx.route,
      error: ctx.error,
    };
    const wrappers = [
      ...(appFile?.module.default ? [appFile.module.default] : []),
      ...(route
        ? layouts.filter((l) => folderContains(folderOf(l.file), folderOf(route.file)))
          .sort(byDepth).map((l) => l.module.default!)
        : []),
    ];
    let Inner: ComponentType = () => h(Page, { ...props, Component: () => null });
    for (const Wrapper of wrappers.reverse()) {
      const Child: ComponentType = Inner;
      Inner = () => h(Wrapper as ComponentType<PageProps>, { ...props, Component: Child });
    }
    const { html, islands } = renderDocument(h(Inner, null));
    let body = html;
    if (islands.length) {
      const built = await build();
      const used = [...new Set(islands.map((i) => i.name))];
      const files = Object.fromEntries(used.map((n) => [n, built.islands[n]]));
      const scripts = `<script type="application/json" id="__pv_islands">${
        scriptJson({ files, islands })
      }</script><script type="module" src="${built.boot}"></script>`;
      // The page's scripts and their shared chunks load in parallel, not as a request chain.
      const preload = [
        built.boot,
        ...built.imports.boot,
        ...used.flatMap((n) => [built.islands[n], ...built.imports[n]]),
      ];
      const links = [...new Set(preload)].map((href) => `<link rel="modulepreload" href="${href}">`)
        .join("");
      if (body.includes("</head>")) body = insertBefore(body, "</head>", links);
      body = insertBefore(body, "</body>", scripts);
    }
    const headers = new Headers(init.headers);
    headers.set("Content-Type", "text/html; charset=utf-8");
    return new Response(body, { status: init.status ?? 200, headers });
  }

  /** A route's handler for each method, and its Allow header, worked out once per route. */
  const dispatch = new Map<LoadedFile, Map<string, RouteFn<State> | string>>();
  function handlerFor(route: LoadedFile, method: string): RouteFn<State> | string {
    let byMethod = dispatch.get(route);
    if (!byMethod) dispatch.set(route, byMethod = new Map());
    let found = byMethod.get(method);
    if (found === undefined) {
      const handler = route.module.handler as RouteHandler<unknown, State> | undefined;
      const Page = route.module.default;
      const upper = method.toUpperCase() as Method;
      let fn: RouteFn<State> | undefined;
      let allowed: Method[];
      if (typeof handler === "function") {
        fn = handler;
        allowed = METHODS;
      } else if (handler) {
        fn = handler[upper] ?? (upper === "HEAD" ? handler.GET : undefined);
        allowed = METHODS.filter((m) => handler[m] || (m === "HEAD" && handler.GET));
      } else {
        fn = Page && (upper === "GET" || upper === "HEAD") ? () => ({ __page: true }) : undefined;
        allowed = Page ? ["GET", "HEAD"] : [];
      }
      // Only standard methods are remembered, so odd method names cannot grow the map.
      found = fn ?? allowed.join(", ");
      if ((METHODS as string[]).includes(method)) byMethod.set(method, found);
    }
    return found;
  }

  /** Runs the route; synchronous up to the handler so a plain Response costs no extra await. */
  function runRoute(ctx: Context<State>, route: LoadedFile): Response | Promise<Response> {
    const fn = handlerFor(route, ctx.req.method);
    if (typeof fn === "string") throw new HttpError(405, "Method not allowed", { Allow: fn });
    const result = fn(ctx);
    return result instanceof Promise
      ? result.then((r) => finishRoute(ctx, route, r))
      : finishRoute(ctx, route, result);
  }

  function finishRoute(
    ctx: Context<State>,
    route: LoadedFile,
    result: unknown,
  ): Response | Promise<Response> {
    if (result instanceof Response) return headOnly(ctx.req, result);
    if (isPageResponse(result)) {
      const Page = route.module.default as ComponentType<PageProps<unknown, State>> | undefined;
      if (!Page) throw new Error(`${route.file} returned page() but has no page component`);
      return renderPage(ctx, route, Page, result.data, result).then((r) => headOnly(ctx.req, r));
    }
    throw new Error(`${route.file}: handler returned neither a Response nor page()`);
  }

  async function renderError(ctx: Context<State>, err: unknown): Promise<Response> {
    ctx.error = err;
    const status = err instanceof HttpError ? err.status : 500;
    const headers = new Headers(err instanceof HttpError ? err.headers : undefined);
    const errorFile = errorFileFor(ctx.url.pathname);
    if (errorFile) {
      try {
        const handler = errorFile.module.handler;
        if (typeof handler === "function") {
          const res = await (handler as (ctx: Context<State>) => Promise<Response>)(ctx);
          for (const [k, v] of headers) if (!res.headers.has(k)) res.headers.set(k, v);
          return res;
        }
        if (errorFile.module.default) {
          return await renderPage(ctx, null, errorFile.module.default, undefined, {
            status,
            headers,
          });
        }
      } catch (renderErr) {
        console.error("error page failed", renderErr);
      }
    }
    headers.set("Content-Type", "text/plain; charset=utf-8");
    return new Response(status === 500 ? "Internal server error" : (err as Error).message, {
      status,
      headers,
    });
  }

  const runtime: Runtime<State> = {
    innermost(ctx, route) {
      if (route) return runRoute(ctx, route);
      if (!serveStatic) throw new HttpError(404);
      return serveStatic(ctx.req, ctx.url.pathname).then((file) => {
        if (!file) throw new HttpError(404);
        return file;
      });
    },
    renderError,
    renderPage: (ctx, route, vnode, init) => renderPage(ctx, route, () => vnode, undefined, init),
  };

  return {
    /** Builds the island bundles now rather than on the first page that needs them. */
    build,
    handler(req: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
      const url = new URL(req.url);
      if (url.pathname.startsWith(BUILD_PREFIX) && opts.manifest.islands) {
        return build().then((built) => {
          const body = built.files.get(url.pathname);
          if (!body) return handle(req, url, info);
          // One record per file, so its compressed copies are made once.
          let file = builtFiles.get(url.pathname);
          if (!file) {
            file = {
              body,
              etag: `"${url.pathname.slice(BUILD_PREFIX.length)}"`,
              type: "text/javascript; charset=utf-8",
            };
            builtFiles.set(url.pathname, file);
          }
          return fileResponse(req, file, "public, max-age=31536000, immutable");
        });
      }
      return handle(req, url, info);
    },
  };

  function handle(req: Request, url: URL, info: Deno.ServeHandlerInfo): Promise<Response> {
    const match = matcher.match(url.pathname);
    const route = match?.value ?? null;
    const ctx = new RequestContext<State>(
      req,
      url,
      match?.params ?? {},
      opts.state(req),
      match?.pattern ?? null,
      info,
      route,
      middlewaresFor(route, url.pathname),
      runtime,
    );
    return ctx.step(0);
  }
}

function byDepth(a: RouteFile, b: RouteFile): number {
  return a.file.split("/").length - b.file.split("/").length;
}

type RouteFn<State> = (ctx: Context<State>) => unknown;

/** What a request context calls back into: the app's route runner, error and page renderers. */
interface Runtime<State> {
  innermost(ctx: Context<State>, route: LoadedFile | null): Response | Promise<Response>;
  renderError(ctx: Context<State>, err: unknown): Promise<Response>;
  renderPage(
    ctx: Context<State>,
    route: LoadedFile | null,
    vnode: VNode,
    init?: ResponseInit,
  ): Promise<Response>;
}

/**
 * One request's `ctx`. Its methods live on the prototype (no closures per request), and the
 * middleware chain is walked by index: each level turns its own errors into a response (so outer
 * middlewares still see and decorate it) with one `.catch` rather than an async frame per level.
 */
class RequestContext<State> implements Context<State> {
  error?: unknown;
  #level = 0;

  constructor(
    public req: Request,
    public url: URL,
    public params: Record<string, string>,
    public state: State,
    public route: string | null,
    public info: Deno.ServeHandlerInfo,
    private readonly file: LoadedFile | null,
    private readonly chain: Middleware<State>[],
    private readonly runtime: Runtime<State>,
  ) {}

  redirect(location: string, status = 302): Response {
    // "//host" would leave the site: keep redirects on this origin unless absolute http(s).
    const safe = location.startsWith("//") ? "/" + location.replace(/^\/+/, "") : location;
    return new Response(null, { status, headers: { Location: safe } });
  }

  render(vnode: VNode, init?: ResponseInit): Promise<Response> {
    return this.runtime.renderPage(this, this.file, vnode, init);
  }

  next(): Promise<Response> {
    if (this.#level >= this.chain.length) {
      return Promise.reject(new Error("next() called outside middleware"));
    }
    return Promise.resolve(this.step(this.#level + 1));
  }

  /** Runs chain level `i` (the route past the last middleware); errors become error responses. */
  step(i: number): Promise<Response> {
    this.#level = i;
    try {
      const res = i === this.chain.length
        ? this.runtime.innermost(this, this.file)
        : this.chain[i](this);
      return res instanceof Promise
        ? res.catch((err) => this.runtime.renderError(this, err))
        : Promise.resolve(res);
    } catch (err) {
      return this.runtime.renderError(this, err);
    }
  }
}

/** HEAD answers GET's status and headers without the body. */
function headOnly(req: Request, res: Response): Response {
  return req.method === "HEAD"
    ? new Response(null, { status: res.status, headers: res.headers })
    : res;
}
