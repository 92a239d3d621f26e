/**
 * `deno task cycles` (part of `deno task check`): fails when the shipped code (everything main.ts
 * reaches, routes and islands included through the manifest) has an import cycle, and names the
 * files of each. Type-only imports count too: a cycle of types is still two modules that cannot
 * be understood apart.
 */
const root = new URL("../", import.meta.url);
const { stdout, code } = await new Deno.Command(Deno.execPath(), {
  args: ["info", "--json", new URL("main.ts", root).pathname],
  stdout: "piped",
  stderr: "inherit",
}).output();
if (code !== 0) Deno.exit(code);

interface Dep {
  code?: { specifier?: string };
  type?: { specifier?: string };
}
interface Info {
  modules: { specifier: string; dependencies?: Dep[] }[];
}
const info: Info = JSON.parse(new TextDecoder().decode(stdout));
const local = (s: string) => s.startsWith(root.href) && !s.includes("/node_modules/");
const edges = new Map<string, string[]>();
for (const m of info.modules) {
  if (!local(m.specifier)) continue;
  const to = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
    .filter((s): s is string => !!s && local(s));
  edges.set(m.specifier, [...new Set(to)]);
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const idx = new Map<string, number>(), low = new Map<string, number>();
const stack: string[] = [], onStack = new Set<string>();
const cycles: string[][] = [];
function visit(v: string) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
  }
  if (low.get(v) === idx.get(v)) {
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w.slice(root.href.length));
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  }
}
for (const v of edges.keys()) if (!idx.has(v)) visit(v);

if (cycles.length) {
  console.error(`${cycles.length} import cycle(s) in the shipped code:`);
  for (const c of cycles) console.error(`  ${c.join(" ↔ ")}`);
  Deno.exit(1);
}
console.log(`no import cycle among ${edges.size} modules`);
