import type { ComponentType, VNode } from "preact";

/** Thrown anywhere in a handler or middleware to answer with that status (Fresh's HttpError). */
export class HttpError extends Error {
  constructor(readonly status: number, message?: string, readonly headers?: HeadersInit) {
    super(message ?? defaultMessage(status));
  }
}

function defaultMessage(status: number): string {
  return ({
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Payload too large",
    500: "Internal server error",
  } as Record<number, string>)[status] ?? `HTTP ${status}`;
}

/** What a handler returns to have the route's page component render `data`. */
export interface PageResponse<T> {
  readonly __page: true;
  data: T;
  status?: number;
  headers?: HeadersInit;
}

export function page<T>(data?: T, init: { status?: number; headers?: HeadersInit } = {}) {
  return { __page: true, data: data as T, ...init } as PageResponse<T>;
}

export function isPageResponse(v: unknown): v is PageResponse<unknown> {
  return typeof v === "object" && v !== null && (v as { __page?: true }).__page === true;
}

export interface Context<State> {
  req: Request;
  url: URL;
  params: Record<string, string>;
  state: State;
  /** The matched route pattern, e.g. "/v1/video/generations/:id"; null when none matched. */
  route: string | null;
  info: Deno.ServeHandlerInfo;
  /** Set while rendering an error page. */
  error?: unknown;
  redirect(location: string, status?: number): Response;
  /** Renders a VNode inside _app and the layouts. */
  render(vnode: VNode, init?: ResponseInit): Promise<Response>;
  /** In middleware: runs the rest of the chain. */
  next(): Promise<Response>;
}

export interface PageProps<Data = unknown, State = unknown> {
  data: Data;
  url: URL;
  params: Record<string, string>;
  state: State;
  route: string | null;
  error?: unknown;
  /** In _app and _layout: the page (or inner layout) to render inside. */
  Component: ComponentType;
}

type Awaitable<T> = T | Promise<T>;
export type HandlerResult<Data> = Response | PageResponse<Data>;
export type HandlerFn<Data, State> = (ctx: Context<State>) => Awaitable<HandlerResult<Data>>;
export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
export type HandlerByMethod<Data, State> = Partial<Record<Method, HandlerFn<Data, State>>>;
export type RouteHandler<Data, State> = HandlerFn<Data, State> | HandlerByMethod<Data, State>;
export type Middleware<State> = (ctx: Context<State>) => Awaitable<Response>;

type PageData<R> = Awaited<R> extends PageResponse<infer D> ? D : never;
// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;
/** The data a route's handlers pass to page(): what `define.page<typeof handler>` receives. */
export type DataOf<H> = H extends AnyFn ? PageData<ReturnType<H>>
  : H extends Record<string, AnyFn> ? PageData<ReturnType<H[keyof H]>>
  : never;

/** Typed helpers for route modules, as Fresh 2's `createDefine<State>()`. */
export function createDefine<State>() {
  return {
    handlers<Data = unknown, H extends RouteHandler<Data, State> = RouteHandler<Data, State>>(
      handlers: H,
    ): H {
      return handlers;
    },
    page<H = unknown, Data = DataOf<H>>(
      component: (props: PageProps<Data, State>) => VNode | null,
    ) {
      return component;
    },
    middleware(mw: Middleware<State> | Middleware<State>[]) {
      return mw;
    },
  };
}
