import assert from "node:assert/strict";

/**
 * DESIGN.md: one module owns every KV key shape. Billing's live in lib/db/billing.ts; this guards
 * against key literals, key builders or raw prefix lists creeping back into lib/billing/.
 */
Deno.test("lib/billing builds no KV keys and lists no raw prefixes", async () => {
  const dir = new URL("./", import.meta.url);
  const offenders: string[] = [];
  for await (const f of Deno.readDir(dir)) {
    if (!f.isFile || !/\.tsx?$/.test(f.name) || /_test\.tsx?$/.test(f.name)) continue;
    const src = await Deno.readTextFile(new URL(f.name, dir));
    src.split("\n").forEach((line, i) => {
      if (
        /Deno\.KvKey\b/.test(line) || /\bprefix:\s*\[/.test(line) ||
        /\bkv\.(get|set|delete|list)(<[^>]*>)?\(\s*\[/.test(line) ||
        /\bkv\.getMany(<.*>)?\(\s*\[\s*\[/.test(line) ||
        /\.(check|set|delete|sum)\(\s*\[\s*"/.test(line)
      ) offenders.push(`${f.name}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], "move these key shapes into lib/db/billing.ts");
});
