import type { CodeSample } from "../islands/CodeTabs.tsx";

/**
 * One JSON request as curl, JavaScript (fetch) and Python (requests). The key is read from
 * PIPEVIDEO_KEY, never written into the sample.
 */
export function requestSamples(
  baseUrl: string,
  method: "GET" | "POST",
  path: string,
  body?: Record<string, unknown>,
): CodeSample[] {
  const url = baseUrl + path;
  const json = body ? JSON.stringify(body, null, 2) : null;
  const shellJson = json?.replaceAll("'", "'\\''");
  const curl = [
    `curl ${method === "GET" ? "" : `-X ${method} `}${url} \\`,
    `  -H "Authorization: Bearer $PIPEVIDEO_KEY"${json ? " \\" : ""}`,
    ...(json ? [`  -H "Content-Type: application/json" \\`, `  -d '${shellJson}'`] : []),
  ].join("\n");
  const js = [
    `const res = await fetch("${url}", {`,
    `  method: "${method}",`,
    `  headers: {`,
    `    Authorization: \`Bearer \${process.env.PIPEVIDEO_KEY}\`,`,
    ...(json ? [`    "Content-Type": "application/json",`] : []),
    `  },`,
    ...(json ? [`  body: JSON.stringify(${indent(json, 2)}),`] : []),
    `});`,
    `console.log(await res.json());`,
  ].join("\n");
  const py = [
    `import os, requests`,
    ``,
    `res = requests.${method.toLowerCase()}(`,
    `    "${url}",`,
    `    headers={"Authorization": f"Bearer {os.environ['PIPEVIDEO_KEY']}"},`,
    ...(json ? [`    json=${indent(pythonLiteral(json), 4)},`] : []),
    `)`,
    `print(res.json())`,
  ].join("\n");
  return [
    { label: "curl", code: curl },
    { label: "JavaScript", code: js },
    { label: "Python", code: py },
  ];
}

const indent = (s: string, n: number) => s.replaceAll("\n", "\n" + " ".repeat(n));

/** JSON is Python except for its three literals (outside strings). */
function pythonLiteral(json: string): string {
  return json.replace(
    /("(?:[^"\\]|\\.)*")|\btrue\b|\bfalse\b|\bnull\b/g,
    (m, str) =>
      str ?? ({ true: "True", false: "False", null: "None" } as Record<string, string>)[m],
  );
}
