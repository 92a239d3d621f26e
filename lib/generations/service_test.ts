import { openKv } from "../db/kv.ts";
import assert from "node:assert/strict";
import { BadRequest, Conflict, InsufficientCredits, NotFound } from "../errors.ts";
import { getBalance, listLedger, verifyLedger } from "../db/ledger.ts";
import { getGeneration, listGenerations } from "../db/generations.ts";
import { getModelMetrics } from "../db/usage.ts";
import { createKvJobQueue } from "../jobs.ts";
import { localProvider } from "../providers/local.ts";
import { serveVideo, storeVideoFromFile, verifyVideoSignature } from "../storage/mod.ts";
import { cancelGeneration, createGeneration, getUsage, toApiGeneration } from "./service.ts";
import { generationJobHandlers, pollGeneration, submitGeneration } from "./workers.ts";
import { parseGenerationBody } from "./schema.ts";
import {
  fundedOrg,
  rerouting,
  scriptedAdapter,
  testClock,
  testDeps,
  testModel,
  waitForTerminal,
} from "../../tests/support/generations.ts";

const preview = (prompt = "a red fox") =>
  parseGenerationBody({ model: "local/preview", prompt, duration: 1, resolution: "360p" });

Deno.test("full flow on a real KV queue with the local ffmpeg model: pending → completed", async () => {
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  const deps = testDeps(kv, dir, {
    adapters: { local: localProvider },
    storage: {
      storeFromFile: (genId, path) => storeVideoFromFile(dir, genId, path),
      storeFromUrl: () => Promise.reject(new Error("not used")),
    },
  });
  const org = await fundedOrg(kv, 500);
  const listening = createKvJobQueue(kv).listen(generationJobHandlers(deps));
  try {
    const created = await createGeneration(deps, org.id, preview(), { apiKeyId: "key_x" });
    assert.equal(created.status, "pending");
    assert.equal((await getGeneration(kv, org.id, created.id)).status !== "failed", true);
    const done = await waitForTerminal(kv, created.id);
    assert.equal(done.status, "completed", done.error_message ?? "");
    assert.equal(done.cost_cents, 1); // 1 cent per second at 360p, 1 second
    assert.ok(done.latency_ms! >= 0);
    assert.equal(done.attempts.length, 1);
    assert.ok(done.attempts[0].upstream_job_id);
    assert.ok(done.output!.bytes! > 1000);
    const served = await serveVideo(new Request("http://x/"), dir, created.id);
    assert.equal(served.status, 200);
    assert.equal((await served.bytes()).length, done.output!.bytes);
    assert.equal(await getBalance(kv, org.id), 499);
    assert.deepEqual(await verifyLedger(kv, org.id), { balance: 499, sum: 499, ok: true });
    const nowMs = Date.now();
    const api = await toApiGeneration(done, { publicUrl: "http://x", secretKey: "s", nowMs });
    const url = new URL(api.output_url!);
    assert.equal(url.pathname, `/files/videos/${created.id}.mp4`);
    const exp = Number(url.searchParams.get("exp"));
    assert.ok(exp > nowMs / 1000 + 3000 && exp <= nowMs / 1000 + 7200);
    assert.equal(exp % 3600, 0);
    assert.ok(
      await verifyVideoSignature("s", created.id, exp, url.searchParams.get("sig"), nowMs / 1000),
    );
    assert.deepEqual(Object.keys(api).sort(), [
      "completed_at",
      "cost_cents",
      "created_at",
      "error",
      "error_message",
      "id",
      "latency_ms",
      "model",
      "output_url",
      "status",
    ]);
    assert.equal(api.error, null); // a completed generation has no failure reason
    assert.equal(api.created_at, Math.floor(done.created_at / 1000));
    // The rendered work file is removed once stored (right after the completing commit).
    const renders = async () => {
      const names: string[] = [];
      for await (const e of Deno.readDir(`${dir}/local`)) names.push(e.name);
      return names.filter((n) => n.endsWith(".mp4"));
    };
    for (const deadline = Date.now() + 5000; (await renders()).length > 0;) {
      if (Date.now() > deadline) assert.fail(`work files left: ${await renders()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    kv.close();
    await listening;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("200 concurrent requests with credit for 100: exactly 100 are created", async () => {
  const kv = await Deno.openKv(":memory:");
  const deps = testDeps(kv, "/nonexistent", {
    adapters: { fal: scriptedAdapter("fal", {}).adapter },
    models: [testModel("t/one", "fal", 1)],
  });
  const org = await fundedOrg(kv, 100);
  const input = parseGenerationBody({ model: "t/one", prompt: "p" });
  const results = await Promise.allSettled(
    Array.from({ length: 200 }, () => createGeneration(deps, org.id, input)),
  );
  const ok = results.filter((r) => r.status === "fulfilled");
  const refused = results.filter((r) =>
    r.status === "rejected" && r.reason instanceof InsufficientCredits
  );
  assert.equal(ok.length, 100);
  assert.equal(refused.length, 100);
  assert.equal(await getBalance(kv, org.id), 0);
  assert.deepEqual(await verifyLedger(kv, org.id), { balance: 0, sum: 0, ok: true });
  let count = 0;
  for await (const _ of kv.list({ prefix: ["org_generations", org.id] })) count++;
  assert.equal(count, 100);
  kv.close();
});

Deno.test("two KV handles on one file (optimistic retries) never overspend", async () => {
  const dir = await Deno.makeTempDir();
  // Opened as the app opens its KV: two instances on one file ride out "database is locked".
  const a = await openKv(`${dir}/kv.sqlite`);
  const b = await openKv(`${dir}/kv.sqlite`);
  try {
    const models = [testModel("t/one", "fal", 1)];
    const adapters = { fal: scriptedAdapter("fal", {}).adapter };
    const org = await fundedOrg(a, 30);
    const input = parseGenerationBody({ model: "t/one", prompt: "p" });
    const results = await Promise.allSettled([
      ...Array.from(
        { length: 25 },
        () => createGeneration(testDeps(a, dir, { adapters, models }), org.id, input),
      ),
      ...Array.from(
        { length: 25 },
        () => createGeneration(testDeps(b, dir, { adapters, models }), org.id, input),
      ),
    ]);
    // SQLite may refuse a commit with "database is locked" between handles; it must never
    // let both sides spend the same cents.
    for (const r of results) {
      if (r.status === "rejected") {
        assert.ok(
          r.reason instanceof InsufficientCredits || /database is locked/.test(String(r.reason)),
          String(r.reason),
        );
      }
    }
    const created = results.filter((r) => r.status === "fulfilled").length;
    assert.ok(created >= 15 && created <= 30, String(created));
    const ledger = await verifyLedger(a, org.id);
    assert.deepEqual(ledger, { balance: 30 - created, sum: 30 - created, ok: true });
  } finally {
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("insufficient credits writes nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  const deps = testDeps(kv, "/x", {
    adapters: { fal: scriptedAdapter("fal", {}).adapter },
    models: [testModel("t/one", "fal", 50)],
  });
  const org = await fundedOrg(kv, 49);
  await assert.rejects(
    createGeneration(deps, org.id, parseGenerationBody({ model: "t/one", prompt: "p" })),
    (e: unknown) => e instanceof InsufficientCredits && e.status === 402,
  );
  assert.equal(await getBalance(kv, org.id), 49);
  assert.equal((await listLedger(kv, org.id)).data.length, 1);
  assert.equal((await listGenerations(kv, org.id)).data.length, 0);
  kv.close();
});

Deno.test("a failure delivered twice refunds once", async () => {
  const kv = await Deno.openKv(":memory:");
  const { adapter } = scriptedAdapter("fal", {
    poll: [{ status: "failed", message: "content policy", retryable: false }],
  });
  const deps = testDeps(kv, "/x", {
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 7)],
    // What lib/db/webhooks.ts hooks in: its records ride in the terminal commit.
    onTerminal: (a, g) => a.sum(["test_terminal_hooks", g.id], 1n),
  });
  const org = await fundedOrg(kv, 100);
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  assert.equal(await getBalance(kv, org.id), 93);
  await submitGeneration(deps, id);
  await submitGeneration(deps, id); // duplicate delivery: no second upstream job
  assert.equal((await getGeneration(kv, org.id, id)).status, "processing");
  await Promise.all([pollGeneration(deps, id), pollGeneration(deps, id)]);
  await pollGeneration(deps, id);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "failed");
  assert.equal(g.error_message, "t/one via fal: content policy");
  assert.equal(g.cost_cents, 0);
  assert.equal(await getBalance(kv, org.id), 100);
  const refunds = (await listLedger(kv, org.id)).data.filter((e) => e.kind === "refund");
  assert.equal(refunds.length, 1);
  assert.equal(refunds[0].amount_cents, 7);
  const hooks = await kv.get<Deno.KvU64>(["test_terminal_hooks", id]);
  assert.equal(hooks.value?.value, 1n);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
});

Deno.test("cancel refunds once; a second cancel is a Conflict; another org gets NotFound", async () => {
  const kv = await Deno.openKv(":memory:");
  const { adapter, calls } = scriptedAdapter("fal", {});
  const deps = testDeps(kv, "/x", {
    adapters: { fal: adapter },
    models: [testModel("t/one", "fal", 5)],
  });
  const org = await fundedOrg(kv, 10);
  const other = await fundedOrg(kv, 0);
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/one", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  await assert.rejects(cancelGeneration(deps, other.id, id), NotFound);
  const results = await Promise.allSettled([
    cancelGeneration(deps, org.id, id),
    cancelGeneration(deps, org.id, id),
  ]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.ok(rejected.reason instanceof Conflict);
  // Each cancel asks the provider to stop the job before it refunds; only one refunds.
  assert.ok(calls.cancel >= 1 && calls.cancel <= 2, `${calls.cancel} upstream cancels`);
  assert.equal(await getBalance(kv, org.id), 10);
  assert.ok((await verifyLedger(kv, org.id)).ok);
  await pollGeneration(deps, id); // a poll arriving after cancel changes nothing
  assert.equal((await getGeneration(kv, org.id, id)).status, "cancelled");
  await assert.rejects(getGeneration(kv, other.id, id), NotFound);
  kv.close();
});

Deno.test("models[] fallback: retryable submit failure moves on and settles to the second price", async () => {
  const kv = await Deno.openKv(":memory:");
  const dir = await Deno.makeTempDir();
  const first = scriptedAdapter("fal", { submit: [rerouting("fal is down")] });
  const second = { ...localProvider, id: "replicate" as const };
  const deps = testDeps(kv, dir, {
    adapters: { fal: first.adapter, replicate: second },
    models: [testModel("t/a", "fal", 10), testModel("t/b", "replicate", 6)],
  });
  const org = await fundedOrg(kv, 100);
  const listening = createKvJobQueue(kv).listen(generationJobHandlers(deps));
  try {
    const { id } = await createGeneration(
      deps,
      org.id,
      parseGenerationBody({ models: ["t/a", "t/b"], prompt: "fallback" }),
    );
    assert.equal(await getBalance(kv, org.id), 90); // charged the dearer candidate
    const g = await waitForTerminal(kv, id);
    assert.equal(g.status, "completed", g.error_message ?? "");
    assert.equal(g.model, "t/b");
    assert.equal(g.cost_cents, 6);
    assert.deepEqual(g.attempts.map((a) => [a.model, a.error]), [
      ["t/a", "t/a via fal: fal is down"],
      ["t/b", null],
    ]);
    assert.equal(await getBalance(kv, org.id), 94);
    assert.ok((await verifyLedger(kv, org.id)).ok);
    const metricsA = await getModelMetrics(kv, "t/a", Date.now());
    assert.equal(metricsA.failedRequests, 1);
  } finally {
    kv.close();
    await listening;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a retryable failure on the last candidate fails and refunds", async () => {
  const kv = await Deno.openKv(":memory:");
  const { adapter } = scriptedAdapter("fal", { submit: [rerouting("402 from upstream")] });
  const deps = testDeps(kv, "/x", {
    adapters: { fal: adapter },
    models: [testModel("t/a", "fal", 10)],
  });
  const org = await fundedOrg(kv, 10);
  const { id } = await createGeneration(
    deps,
    org.id,
    parseGenerationBody({ model: "t/a", prompt: "p" }),
  );
  await submitGeneration(deps, id);
  const g = await getGeneration(kv, org.id, id);
  assert.equal(g.status, "failed");
  assert.equal(g.error_message, "t/a via fal: 402 from upstream");
  assert.equal(await getBalance(kv, org.id), 10);
  kv.close();
});

Deno.test("idempotency: same body replays, different body is 409, after 24 h it is new", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const deps = testDeps(kv, "/x", {
    now: clock.now,
    adapters: { fal: scriptedAdapter("fal", {}).adapter },
    models: [testModel("t/one", "fal", 3)],
  });
  const org = await fundedOrg(kv, 100);
  const body = parseGenerationBody({ model: "t/one", prompt: "same" });
  const ctx = { idempotencyKey: "abc" };
  const [r1, r2] = await Promise.all([
    createGeneration(deps, org.id, body, ctx),
    createGeneration(deps, org.id, { ...body }, ctx),
  ]);
  assert.deepEqual(r1, r2);
  assert.equal(await getBalance(kv, org.id), 97);
  await assert.rejects(
    createGeneration(deps, org.id, parseGenerationBody({ model: "t/one", prompt: "other" }), ctx),
    (e: unknown) => e instanceof Conflict && e.status === 409,
  );
  clock.advance(24 * 3600_000 + 1);
  const r3 = await createGeneration(deps, org.id, body, ctx);
  assert.notEqual(r3.id, r1.id);
  assert.equal(await getBalance(kv, org.id), 94);
  kv.close();
});

Deno.test("validation names the parameter", async () => {
  const kv = await Deno.openKv(":memory:");
  const deps = testDeps(kv, "/x", { adapters: { local: localProvider } });
  const org = await fundedOrg(kv, 100);
  const cases: [Record<string, unknown>, string][] = [
    [{ model: "local/preview", prompt: "p", duration: 7 }, "duration"],
    [{ model: "local/preview", prompt: "p", resolution: "4k" }, "resolution"],
    [{ model: "local/preview", prompt: "p", aspect_ratio: "4:3" }, "aspect_ratio"],
    [{ model: "local/preview", prompt: "p", image_url: "https://x/y.png" }, "image_url"],
    [{ model: "nope/none", prompt: "p" }, "model"],
    [{ model: "local/preview", prompt: "p", provider: "fal" }, "provider"],
  ];
  for (const [body, param] of cases) {
    await assert.rejects(
      createGeneration(deps, org.id, parseGenerationBody(body)),
      (e: unknown) => e instanceof BadRequest && e.param === param,
      JSON.stringify(body),
    );
  }
  const unconfigured = testDeps(kv, "/x", { adapters: {} });
  await assert.rejects(
    createGeneration(unconfigured, org.id, preview()),
    (e: unknown) => e instanceof BadRequest && e.param === "model",
  );
  assert.equal(await getBalance(kv, org.id), 100);
  kv.close();
});

Deno.test("usage and model metrics after a few generations", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock();
  const ok = scriptedAdapter("fal", {
    poll: [{ status: "succeeded", output: { file: "" } }],
  });
  const bad = scriptedAdapter("luma", {
    poll: [{ status: "failed", message: "nsfw", retryable: false }],
  });
  const dir = await Deno.makeTempDir();
  const src = `${dir}/src.mp4`;
  await Deno.writeFile(src, new Uint8Array(2000));
  // Each poll hands over a fresh work file: the worker removes it once it is stored.
  let renders = 0;
  (ok.adapter as { poll: unknown }).poll = async () => {
    const file = `${dir}/render-${renders++}.mp4`;
    await Deno.copyFile(src, file);
    return { status: "succeeded", output: { file } };
  };
  const deps = testDeps(kv, dir, {
    now: clock.now,
    adapters: { fal: ok.adapter, luma: bad.adapter },
    models: [testModel("t/ok", "fal", 4), testModel("t/bad", "luma", 9)],
  });
  const org = await fundedOrg(kv, 100, clock.now());
  const run = async (model: string, latencyMs: number) => {
    const { id } = await createGeneration(
      deps,
      org.id,
      parseGenerationBody({ model, prompt: "p" }),
    );
    await submitGeneration(deps, id);
    clock.advance(latencyMs);
    await pollGeneration(deps, id);
    return id;
  };
  await run("t/ok", 10_000);
  await run("t/ok", 20_000);
  await run("t/bad", 5_000);
  const usage = await getUsage(kv, org.id, clock.now());
  assert.equal(usage.credit_balance, 92);
  assert.deepEqual(usage.totals, {
    total_requests: 3,
    completed_requests: 2,
    failed_requests: 1,
    total_cost_cents: 8,
  });
  assert.deepEqual(usage.daily_usage, [{
    date: "2026-11-27",
    request_count: 3,
    completed_count: 2,
    failed_count: 1,
    total_cost_cents: 8,
    total_duration_seconds: 2,
  }]);
  assert.equal(usage.recent_requests.length, 3);
  assert.equal(usage.recent_requests[0].model_name, "t/bad");
  assert.equal(usage.recent_requests[1].latency_ms, 20_000);
  const m = await getModelMetrics(kv, "t/ok", clock.now());
  assert.equal(m.totalRequests, 2);
  assert.equal(m.completedRequests, 2);
  assert.equal(m.successRate, 100);
  assert.equal(m.avgLatencyMs, 15_000);
  assert.ok(m.p50LatencyMs > 8_000 && m.p50LatencyMs <= 12_000, String(m.p50LatencyMs));
  assert.ok(m.p95LatencyMs > 16_000 && m.p95LatencyMs <= 24_000, String(m.p95LatencyMs));
  const mb = await getModelMetrics(kv, "t/bad", clock.now());
  assert.deepEqual([mb.totalRequests, mb.failedRequests, mb.successRate], [1, 1, 0]);
  // Eight days later the window no longer holds them.
  assert.equal((await getModelMetrics(kv, "t/ok", clock.now() + 8 * 86_400_000)).totalRequests, 0);
  kv.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("routing: cheapest configured route, a named provider, or the first of an order", async () => {
  const { toVideoRequest, resolveOptions } = await import("./service.ts");
  const { pickRoute } = await import("../catalog/mod.ts");
  const model = testModel("t/multi", "fal", 10);
  model.routes.push({
    ...model.routes[0],
    provider: "replicate",
    listPrice: { unit: "video", cents: { "360p": 8, "720p": 16 } },
  });
  model.routes.push({
    ...model.routes[0],
    provider: "luma",
    listPrice: { unit: "video", cents: { "360p": 5, "720p": 10 } },
  });
  const req = toVideoRequest(resolveOptions({ models: ["t/multi"], prompt: "p" }, [model]));
  const all = () => true;
  const noLuma = (p: string) => p !== "luma";
  assert.equal(pickRoute(model, req, undefined, all, 1)?.route.provider, "luma");
  assert.equal(pickRoute(model, req, undefined, noLuma, 1)?.price, 8);
  assert.equal(pickRoute(model, req, "fal", all, 1)?.price, 10);
  assert.equal(pickRoute(model, req, "luma", noLuma, 1), null);
  assert.equal(pickRoute(model, req, { order: ["luma", "fal"] }, noLuma, 1)?.route.provider, "fal");
  assert.equal(
    pickRoute(model, req, { order: ["runway"] }, noLuma, 1)?.route.provider,
    "replicate",
  );
});

Deno.test("a webhook_url that can never be delivered is refused at creation, from any entry point", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const org = await fundedOrg(kv, 100);
    const deps = testDeps(kv, "/unused", {
      adapters: { fal: scriptedAdapter("fal", {}).adapter },
      models: [testModel("t/one", "fal", 5)],
      allowPrivateUrls: false, // production
    });
    const body = (webhook_url: string) =>
      parseGenerationBody({ model: "t/one", prompt: "x", webhook_url });
    for (const url of ["http://127.0.0.1/hook", "http://localhost:8080/x", "http://[::1]/"]) {
      await assert.rejects(createGeneration(deps, org.id, body(url)), (err: BadRequest) => {
        assert.ok(err instanceof BadRequest);
        assert.equal(err.param, "webhook_url");
        return true;
      });
    }
    assert.equal(await getBalance(kv, org.id), 100, "nothing charged");
    await createGeneration(deps, org.id, body("https://hooks.example.com/pv"));
    assert.equal(await getBalance(kv, org.id), 95);
  } finally {
    kv.close();
  }
});
