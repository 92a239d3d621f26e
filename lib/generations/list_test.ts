import assert from "node:assert/strict";
import {
  addNewGeneration,
  type GenerationRecord,
  type GenerationStatus,
  LIST_SCAN_CAP,
  listGenerations,
} from "../db/generations.ts";
import { newId } from "../ids.ts";

const T0 = Date.UTC(2026, 10, 27, 12);

function record(orgId: string, i: number, status: GenerationStatus): GenerationRecord {
  const created = T0 + i * 1000;
  return {
    id: newId("gen", created),
    org_id: orgId,
    api_key_id: null,
    status,
    model: i % 2 ? "t/odd" : "t/even",
    options: { prompt: "p", duration: 1, resolution: "360p", aspect_ratio: "16:9" },
    candidates: [{ model: "t/m", provider: "local", upstream_model: "m", price_cents: 1 }],
    attempt: 0,
    attempts: [],
    charged_cents: 1,
    cost_cents: 1,
    refunded_cents: 0,
    provider_job_id: null,
    submit_claimed_at: null,
    tick: 0,
    poll_count: 0,
    next_check_at: null,
    deadline_at: created + 3600_000,
    output: null,
    latency_ms: null,
    error_message: null,
    application_name: null,
    metadata: null,
    webhook_url: null,
    idempotency_key: null,
    created_at: created,
    updated_at: created,
    completed_at: created,
  };
}

/** `n` generations of one org, oldest first; `failed` lists the indexes that failed. */
async function history(kv: Deno.Kv, n: number, failed: number[]): Promise<GenerationRecord[]> {
  const out: GenerationRecord[] = [];
  for (let i = 0; i < n; i += 100) {
    const a = kv.atomic();
    for (let j = i; j < Math.min(n, i + 100); j++) {
      const g = record("org_1", j, failed.includes(j) ? "failed" : "completed");
      addNewGeneration(a, g);
      out.push(g);
    }
    assert.ok((await a.commit()).ok);
  }
  return out;
}

/** The KV with its reads counted (`get` and `getMany` calls). */
function countingKv(kv: Deno.Kv) {
  const reads = { get: 0, getMany: 0 };
  const counted = new Proxy(kv, {
    get(target, prop) {
      if (prop === "get" || prop === "getMany") reads[prop]++;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { kv: counted, reads };
}

Deno.test("a status filter that matches little scans a bounded slice per page and continues by cursor", async () => {
  const raw = await Deno.openKv(":memory:");
  try {
    const n = LIST_SCAN_CAP * 2 + 40;
    const failed = [0, 3, n - 1];
    const all = await history(raw, n, failed);
    const { kv, reads } = countingKv(raw);
    const found: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const before = reads.get + reads.getMany;
      const page = await listGenerations(kv, "org_1", { status: "failed", limit: 20, cursor });
      pages++;
      // One read per ten index entries, never one per entry.
      assert.ok(reads.get + reads.getMany - before <= LIST_SCAN_CAP / 10 + 1, `page ${pages}`);
      found.push(...page.data.map((g) => g.id));
      cursor = page.next_cursor ?? undefined;
      assert.ok(pages <= 4, "the pages end");
    } while (cursor);
    assert.equal(reads.get, 0);
    assert.equal(pages, 3); // 500 + 500 + 40 entries scanned
    assert.deepEqual(found, [...failed].reverse().map((i) => all[i].id));
  } finally {
    raw.close();
  }
});

Deno.test("pages without a filter are exact: limit each, newest first, no repeats, null at the end", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const all = await history(kv, 25, []);
    const sizes: number[] = [];
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listGenerations(kv, "org_1", { limit: 10, cursor });
      sizes.push(page.data.length);
      ids.push(...page.data.map((g) => g.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.deepEqual(ids, all.map((g) => g.id).reverse());

    // Exactly a page's worth left: the last full page says there is no more.
    const twenty = await listGenerations(kv, "org_1", { limit: 20 });
    const rest = await listGenerations(kv, "org_1", { limit: 5, cursor: twenty.next_cursor! });
    assert.equal(rest.data.length, 5);
    assert.equal(rest.next_cursor, null);

    // A model filter mid-batch: the cursor resumes right after the last record returned.
    const odd: string[] = [];
    cursor = undefined;
    do {
      const page = await listGenerations(kv, "org_1", { model: "t/odd", limit: 3, cursor });
      odd.push(...page.data.map((g) => g.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    assert.deepEqual(odd, all.filter((g) => g.model === "t/odd").map((g) => g.id).reverse());
  } finally {
    kv.close();
  }
});
