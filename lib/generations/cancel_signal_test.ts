import assert from "node:assert/strict";
import { getGeneration } from "../db/generations.ts";
import { localProvider } from "../providers/local.ts";
import { cancelGeneration, createGeneration } from "./service.ts";
import { parseGenerationBody } from "./schema.ts";
import { sweepGenerations } from "./sweep.ts";
import { submitGeneration } from "./workers.ts";
import { fundedOrg, testClock, testDeps } from "../../tests/support/generations.ts";

const preview = parseGenerationBody({
  model: "local/preview",
  prompt: "left behind",
  duration: 1,
  resolution: "360p",
});

async function renders(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/local`)) out.push(e.name);
  return out;
}

for (const end of ["deadline", "cancel"] as const) {
  Deno.test(`a rendered local video not yet picked up is removed when the generation ends by ${end}`, async () => {
    const kv = await Deno.openKv(":memory:");
    const dir = await Deno.makeTempDir();
    try {
      const clock = testClock(Date.now());
      const deps = testDeps(kv, dir, { now: clock.now, adapters: { local: localProvider } });
      const org = await fundedOrg(kv, 100, clock.now());
      const { id } = await createGeneration(deps, org.id, preview);
      await submitGeneration(deps, id); // renders; the poll that would store it never runs
      assert.equal((await renders(dir)).length, 1);
      if (end === "deadline") {
        clock.advance(24 * 3600_000);
        assert.deepEqual((await sweepGenerations(deps, clock.now())).expired, [id]);
      } else {
        await cancelGeneration(deps, org.id, id);
      }
      assert.notEqual((await getGeneration(kv, org.id, id)).status, "completed");
      assert.deepEqual(await renders(dir), []);
    } finally {
      kv.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
