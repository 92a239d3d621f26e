import * as esbuild from "esbuild";
import { fromFileUrl } from "./paths.ts";

/**
 * Bundles the browser side of islands with esbuild, in memory: the boot script and one entry per
 * island, with code splitting so preact is shared, and content-hashed names served immutable.
 */

export interface BuiltAssets {
  /** "/_build/boot-HASH.js" */
  boot: string;
  /** island name -> "/_build/Name-HASH.js" */
  islands: Record<string, string>;
  /** "/_build/…" -> file contents */
  files: Map<string, Uint8Array>;
  /** island name (and "boot") -> the shared chunks its file imports, for modulepreload */
  imports: Record<string, string[]>;
}

export const BUILD_PREFIX = "/_build/";

export async function buildIslands(
  islandFiles: Record<string, string>,
  opts: { minify?: boolean } = {},
): Promise<BuiltAssets> {
  const boot = fromFileUrl(new URL("./boot.ts", import.meta.url));
  const entryPoints = [
    { in: boot, out: "boot" },
    ...Object.entries(islandFiles).map(([name, file]) => ({ in: file, out: `island-${name}` })),
  ];
  try {
    const result = await esbuild.build({
      entryPoints,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "browser",
      target: ["es2022"],
      outdir: "/_build",
      write: false,
      minify: opts.minify ?? true,
      jsx: "automatic",
      jsxImportSource: "preact",
      entryNames: "[name]-[hash]",
      chunkNames: "chunk-[hash]",
      logLevel: "silent",
      metafile: true,
    });
    const files = new Map<string, Uint8Array>();
    const islands: Record<string, string> = {};
    let bootPath = "";
    for (const f of result.outputFiles) {
      const path = BUILD_PREFIX + f.path.split("/").pop();
      files.set(path, f.contents);
    }
    for (const path of files.keys()) {
      const base = path.slice(BUILD_PREFIX.length);
      if (base.startsWith("boot-")) bootPath = path;
      const island = base.match(/^island-(.+)-[A-Z0-9]+\.js$/);
      if (island) islands[island[1]] = path;
    }
    // Static imports of each output (its chunks), as esbuild's metafile lists them.
    const byName = new Map(
      Object.entries(result.metafile!.outputs).map(([k, v]) => [k.split("/").pop()!, v]),
    );
    // Transitively: a chunk may import another chunk.
    const importsOf = (path: string, seen = new Set<string>()): string[] => {
      for (const i of byName.get(path.split("/").pop()!)?.imports ?? []) {
        const dep = BUILD_PREFIX + i.path.split("/").pop();
        if (i.kind !== "import-statement" || seen.has(dep)) continue;
        seen.add(dep);
        importsOf(dep, seen);
      }
      return [...seen];
    };
    const imports: Record<string, string[]> = { boot: importsOf(bootPath) };
    for (const [name, path] of Object.entries(islands)) imports[name] = importsOf(path);
    return { boot: bootPath, islands, files, imports };
  } finally {
    await esbuild.stop();
  }
}
