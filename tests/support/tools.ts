/**
 * System tools a test runs (promtool, prometheus, …), found on PATH. Missing on a developer's
 * machine the test is skipped with a note; missing under CI=true it runs and fails, so a CI
 * image without the package can never pass by skipping.
 */
const APT_PACKAGE: Record<string, string> = { promtool: "prometheus", prometheus: "prometheus" };

export function findTool(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not in this directory */ }
  }
  return null;
}

const inCi = () => ["true", "1"].includes(Deno.env.get("CI") ?? "");

/** For Deno.test's `ignore`: true only when the tool is missing outside CI. */
export function ignoreWithout(name: string): boolean {
  if (findTool(name) || inCi()) return false;
  console.warn(`${name} is not installed (apt-get install ${APT_PACKAGE[name] ?? name}): skipped`);
  return true;
}

/** The tool's path; throws, naming the package to install, when it is missing. */
export function requireTool(name: string): string {
  const path = findTool(name);
  if (!path) {
    throw new Error(
      `${name} is not on PATH: install Debian's ${APT_PACKAGE[name] ?? name} package`,
    );
  }
  return path;
}
