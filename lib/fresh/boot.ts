// Runs in the browser: hydrates every <pv-island> with its component and serialized props.
import { h, hydrate } from "preact";

interface IslandData {
  files: Record<string, string>;
  islands: { name: string; props: Record<string, unknown> }[];
}

const data: IslandData = JSON.parse(document.getElementById("__pv_islands")!.textContent!);
const modules = new Map<string, Promise<{ default: preact.ComponentType }>>();

for (const el of document.querySelectorAll<HTMLElement>("pv-island")) {
  const { name, props } = data.islands[Number(el.dataset.island)];
  if (!modules.has(name)) modules.set(name, import(data.files[name]));
  modules.get(name)!.then((mod) => {
    hydrate(h(mod.default, props), el);
    el.dataset.hydrated = "";
  });
}
