import assert from "node:assert/strict";
import { balanceKey, creditOrg } from "../lib/db/ledger.ts";
import { createOrg } from "../lib/db/orgs.ts";
import { run } from "./ledger.ts";

Deno.test("ledger verify exits 0 when consistent and 1 on a mismatch; list prints entries", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const org = await createOrg(kv, { name: "Acme" });
    await creditOrg(kv, org.id, 1_234, { kind: "topup", reason: "hello" });
    const lines: string[] = [];
    assert.equal(await run(["verify"], kv, (l) => lines.push(l)), 0);
    assert.match(lines.at(-1)!, /^OK: 1 orgs checked/);
    assert.equal(await run(["list", org.id], kv, (l) => lines.push(l)), 0);
    assert.ok(lines.some((l) => l.includes("topup") && l.includes("1234") && l.includes("hello")));
    await kv.set(balanceKey(org.id), new Deno.KvU64(1n));
    assert.equal(await run(["verify"], kv, (l) => lines.push(l)), 1);
    assert.ok(lines.some((l) => l.startsWith(`MISMATCH ${org.id}`)));
  } finally {
    kv.close();
  }
});
