/**
 * Turns routes/ file paths into URL patterns with Fresh's naming rules, and orders them so the
 * most specific pattern wins: static segments, then [param], then [...rest].
 */

export interface RouteFile {
  /** Path relative to routes/, with "/" separators, e.g. "v1/video/[id].ts". */
  file: string;
  pattern: string;
  kind: "route" | "middleware" | "layout" | "app" | "error";
  /** The URL prefix a middleware or layout applies to, e.g. "/v1". */
  dir: string;
}

const SPECIAL: Record<string, RouteFile["kind"]> = {
  _middleware: "middleware",
  _layout: "layout",
  _app: "app",
  _error: "error",
};

export function classifyRouteFile(file: string): RouteFile {
  const parts = file.replace(/\.(tsx?|jsx?)$/, "").split("/");
  const name = parts.pop()!;
  const segments = parts.filter((p) => !/^\(.*\)$/.test(p)).map(toSegment);
  const dir = "/" + segments.join("/");
  const kind = SPECIAL[name] ?? "route";
  if (kind !== "route") return { file, pattern: dir, kind, dir: dir === "/" ? "" : dir };
  if (name !== "index") segments.push(toSegment(name));
  return { file, pattern: "/" + segments.join("/"), kind, dir: dir === "/" ? "" : dir };
}

function toSegment(part: string): string {
  const rest = part.match(/^\[\.\.\.(\w+)\]$/);
  if (rest) return `:${rest[1]}*`;
  return part.replace(/\[(\w+)\]/g, ":$1");
}

/** Lower ranks sort first: each segment scores static < param < catch-all. */
function rank(pattern: string): number[] {
  return pattern.split("/").filter(Boolean).map((s) =>
    s.endsWith("*") ? 2 : s.includes(":") ? 1 : 0
  );
}

export function compareRoutes(a: string, b: string): number {
  const ra = rank(a), rb = rank(b);
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    // A shorter pattern is more specific than a longer one it is a prefix of.
    if (ra[i] === undefined) return -1;
    if (rb[i] === undefined) return 1;
    if (ra[i] !== rb[i]) return ra[i] - rb[i];
  }
  return a.localeCompare(b);
}

export interface Matcher<T> {
  match(pathname: string): { value: T; pattern: string; params: Record<string, string> } | null;
}

/**
 * Compiles a pattern ("/v1/models/:slug", "/docs/:rest*") to a RegExp once: URLPattern objects
 * are slow to build and to run, and routing is on every request's path.
 */
export function compilePattern(pattern: string, prefix = false): { re: RegExp; names: string[] } {
  const names: string[] = [];
  let source = "";
  for (const segment of pattern.split("/").filter(Boolean)) {
    const rest = segment.match(/^:(\w+)\*$/);
    if (rest) {
      names.push(rest[1]);
      source += "(?:/(.*))?";
      continue;
    }
    source += "/" + segment.split(/(:\w+)/).map((part) => {
      if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(part.slice(1));
      return "([^/]+?)";
    }).join("");
  }
  const tail = prefix ? "(?:/.*)?" : "";
  return { re: new RegExp(`^${source || (prefix ? "" : "/")}${tail}$`), names };
}

export function createMatcher<T>(routes: { pattern: string; value: T }[]): Matcher<T> {
  const exact = new Map<string, { pattern: string; value: T }>();
  const dynamic: { pattern: string; value: T; re: RegExp; names: string[] }[] = [];
  for (const r of [...routes].sort((a, b) => compareRoutes(a.pattern, b.pattern))) {
    // A static pattern is more specific than any dynamic one that also matches.
    if (!r.pattern.includes(":")) exact.has(r.pattern) || exact.set(r.pattern, r);
    else dynamic.push({ ...r, ...compilePattern(r.pattern) });
  }
  return {
    match(pathname) {
      const hit = exact.get(pathname);
      if (hit) return { value: hit.value, pattern: hit.pattern, params: {} };
      for (const r of dynamic) {
        const m = r.re.exec(pathname);
        if (!m) continue;
        const params: Record<string, string> = {};
        r.names.forEach((name, i) => {
          if (m[i + 1] !== undefined) params[name] = safeDecode(m[i + 1]);
        });
        return { value: r.value, pattern: r.pattern, params };
      }
      return null;
    },
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** "v1/(api)/x.ts" -> "v1/(api)": the folder a route file sits in. */
export function folderOf(file: string): string {
  return file.split("/").slice(0, -1).join("/");
}

/** True when folder `outer` contains (or is) folder `inner`. */
export function folderContains(outer: string, inner: string): boolean {
  return outer === "" || inner === outer || inner.startsWith(outer + "/");
}

/** A test for "a URL dir such as /v1 or /orgs/:id is a prefix of the path", compiled once. */
export function dirMatcher(dir: string): (pathname: string) => boolean {
  if (dir === "") return () => true;
  const { re } = compilePattern(dir, true);
  return (pathname) => re.test(pathname);
}
