import assert from "node:assert/strict";
import { BadRequest } from "../errors.ts";
import { listLedger } from "./ledger.ts";
import { listDeliveries } from "./webhooks.ts";
import { listGenerations } from "./generations.ts";

Deno.test("every paged list refuses a cursor it did not give out with a 400 naming cursor", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await kv.set(["ledger", "org_1", "led_1"], { id: "led_1" });
    await kv.set(["ledger", "org_1", "led_2"], { id: "led_2" });
    const lists = [
      (cursor: string) => listLedger(kv, "org_1", { cursor, limit: 1 }),
      (cursor: string) => listDeliveries(kv, "org_1", { cursor }),
      (cursor: string) => listGenerations(kv, "org_1", { cursor }),
    ];
    for (const list of lists) {
      for (const cursor of ["!!!", "\u00ff\u00fe", "AAAAAAAAAAAAAAAAAAAAAAAAA", "x".repeat(2000)]) {
        await assert.rejects(list(cursor), (err: Error) => {
          assert.ok(err instanceof BadRequest, `${cursor}: ${err}`);
          assert.equal(err.param, "cursor");
          return true;
        });
      }
    }
    // A cursor the list gave out still works.
    const first = await listLedger(kv, "org_1", { limit: 1 });
    const second = await listLedger(kv, "org_1", { limit: 1, cursor: first.next_cursor! });
    assert.deepEqual(second.data.map((e) => e.id), ["led_1"]);
  } finally {
    kv.close();
  }
});
