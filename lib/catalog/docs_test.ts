import assert from "node:assert/strict";
import { MODELS } from "./mod.ts";

Deno.test("docs/providers.md lists every shipped route with its source and the date it was checked", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/providers.md", import.meta.url));
  const rows = doc.split("\n").filter((l) => l.startsWith("| `"))
    .map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
  for (const m of MODELS) {
    for (const r of m.routes) {
      const row = rows.find((c) => c[0] === `\`${m.slug}\`` && c[2] === `\`${r.upstreamModel}\``);
      assert.ok(row, `${m.slug} on ${r.provider} (${r.upstreamModel}) is not in the routes table`);
      assert.ok(row[5] && row[5] !== "?", `${m.slug} ${r.provider}: no source`);
      assert.match(row[6], /^(\d{4}-\d{2}-\d{2}|—)$/, `${m.slug} ${r.provider}: no date checked`);
    }
  }
});
