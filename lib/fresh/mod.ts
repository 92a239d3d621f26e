/**
 * Pipevideo's Fresh-shaped web layer: Fresh 2's conventions (file routes, _app, _layout,
 * _middleware, _error, islands, createDefine, page, HttpError) on preact and esbuild from npm,
 * because Fresh itself is published only on JSR. Moving to Fresh should be a change of imports.
 */
export {
  type Context,
  createDefine,
  type HandlerByMethod,
  type HandlerFn,
  HttpError,
  type Middleware,
  page,
  type PageProps,
  type PageResponse,
  type RouteHandler,
} from "./context.ts";
export { createApp, type Manifest, type RouteModule } from "./app.ts";
export { Head } from "./render.ts";
