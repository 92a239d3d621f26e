import { type ComponentChildren, type ComponentType, h, options, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/**
 * Server rendering. Islands are found by a preact options hook: a vnode whose type is a
 * registered island component is wrapped in <pv-island> and its props are recorded, so the
 * browser can hydrate exactly those parts. renderToString is synchronous, so one module-level
 * "current render" is safe.
 */

export interface IslandInfo {
  name: string;
  component: ComponentType;
}

interface RenderState {
  islands: { name: string; props: unknown }[];
  head: string[];
}

const islandsByComponent = new Map<unknown, IslandInfo>();
let current: RenderState | null = null;
let creatingIslandChild = false;

export function registerIsland(info: IslandInfo) {
  islandsByComponent.set(info.component, info);
}

function IslandMarker(props: { island: IslandInfo; props: Record<string, unknown> }) {
  const state = current!;
  const index = state.islands.push({ name: props.island.name, props: props.props }) - 1;
  creatingIslandChild = true;
  const child = h(props.island.component, props.props);
  creatingIslandChild = false;
  return h("pv-island", { "data-island": String(index) }, child);
}

const previousVnodeHook = options.vnode;
options.vnode = (vnode: VNode) => {
  const island = islandsByComponent.get(vnode.type);
  if (island && current && !creatingIslandChild) {
    const props = vnode.props as Record<string, unknown>;
    assertSerializable(island.name, props);
    vnode.type = IslandMarker as unknown as typeof vnode.type;
    vnode.props = { island, props } as unknown as typeof vnode.props;
  }
  previousVnodeHook?.(vnode);
};

function assertSerializable(name: string, props: Record<string, unknown>) {
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function" || typeof value === "symbol") {
      throw new Error(`Island ${name}: prop "${key}" is not serializable`);
    }
  }
}

/** Puts its children into the document's <head> (titles, meta). */
export function Head(props: { children?: ComponentChildren }) {
  current?.head.push(renderToString(h("template", null, props.children)).slice(10, -11));
  return null;
}

export interface RenderResult {
  html: string;
  islands: { name: string; props: unknown }[];
}

export function renderDocument(vnode: VNode): RenderResult {
  const state: RenderState = { islands: [], head: [] };
  const outer = current;
  current = state;
  let html: string;
  try {
    html = renderToString(vnode);
  } finally {
    current = outer;
  }
  if (state.head.length) html = insertBefore(html, "</head>", state.head.join(""));
  return { html: "<!DOCTYPE html>" + html, islands: state.islands };
}

/**
 * Puts `text` just before the first `marker` (at the end without one). Slicing, not
 * String.replace: a replacement string would expand `$&`, `$'`, `$\`` found in the text.
 */
export function insertBefore(html: string, marker: string, text: string): string {
  const at = html.indexOf(marker);
  return at < 0 ? html + text : html.slice(0, at) + text + html.slice(at);
}

/** JSON for a <script type="application/json">: "<" escaped so no tag can close it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(
    /\u2028|\u2029/g,
    (c) => c === "\u2028" ? "\\u2028" : "\\u2029",
  );
}
