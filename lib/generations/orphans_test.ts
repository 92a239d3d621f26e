/**
 * A submit cut off by a crash (docs/faults.md, "Crash during submit"): the process dies after the
 * provider started the job but before the job id was recorded. The takeover of the lapsed lease
 * finds that job where the provider lists jobs (Replicate, Luma) and adopts it: one upstream job.
 * Where it cannot (fal), it submits again and the orphan is counted. The real adapters run against
 * a local stand-in that keeps the jobs it was asked to start and lists them as the APIs do.
 */
import assert from "node:assert/strict";
import { getGeneration } from "../db/generations.ts";
import { getBalance, verifyLedger } from "../db/ledger.ts";
import { falProvider } from "../providers/fal.ts";
import { lumaProvider } from "../providers/luma.ts";
import { replicateProvider } from "../providers/replicate.ts";
import type { ProviderAdapter, ProviderId } from "../providers/types.ts";
import { startFalStandin } from "../../tests/support/fal_standin.ts";
import { routeStatus } from "./breaker.ts";
import { parseGenerationBody } from "./schema.ts";
import { createGeneration } from "./service.ts";
import {
  fundedOrg,
  manualTimer,
  testClock,
  testDeps,
  testModel,
} from "../../tests/support/generations.ts";
import { submitGeneration } from "./workers.ts";

interface HeldJob {
  id: string;
  provider: "replicate" | "luma";
  model: string;
  body: Record<string, unknown>;
  created_at: string;
  status: string;
}

/** Replicate's and Luma's create, list and cancel calls on 127.0.0.1, jobs kept in order. */
function startJobsStandin(now: () => number) {
  const jobs: HeldJob[] = [];
  const newest = (p: HeldJob["provider"]) => jobs.filter((j) => j.provider === p).reverse();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const { pathname, searchParams } = new URL(req.url);
    const created_at = new Date(now()).toISOString();
    const model = pathname.match(/^\/v1\/models\/([^/]+\/[^/]+)\/predictions$/)?.[1];
    if (req.method === "POST" && model) {
      const { input } = await req.json();
      const id = crypto.randomUUID().replaceAll("-", "");
      jobs.push({ id, provider: "replicate", model, body: input, created_at, status: "starting" });
      return Response.json({ id, model, input, status: "starting", created_at }, { status: 201 });
    }
    if (req.method === "GET" && pathname === "/v1/predictions") {
      const results = newest("replicate").map((j) => ({
        id: j.id,
        model: j.model,
        input: { ...j.body, fps: 24 }, // a default the provider adds
        status: j.status,
        created_at: j.created_at,
      }));
      return Response.json({ results, next: null, previous: null });
    }
    if (req.method === "POST" && pathname === "/dream-machine/v1/generations/video") {
      const body = await req.json();
      const id = crypto.randomUUID();
      jobs.push({ id, provider: "luma", model: body.model, body, created_at, status: "queued" });
      return Response.json({ id, state: "queued", created_at, request: body }, { status: 201 });
    }
    if (req.method === "GET" && pathname === "/dream-machine/v1/generations") {
      const limit = Number(searchParams.get("limit") ?? 10);
      const offset = Number(searchParams.get("offset") ?? 0);
      const all = newest("luma");
      const generations = all.slice(offset, offset + limit).map((j) => ({
        id: j.id,
        state: j.status,
        created_at: j.created_at,
        request: { ...j.body, generation_type: "video" },
      }));
      return Response.json({ generations, has_more: offset + limit < all.length, limit, offset });
    }
    return Response.json({ detail: "not found" }, { status: 404 });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    jobs,
    env: {
      REPLICATE_API_TOKEN: "r8_test",
      REPLICATE_BASE_URL: url,
      LUMAAI_API_KEY: "luma_test",
      LUMAAI_BASE_URL: `${url}/dream-machine/v1`,
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/**
 * The adapter of a process that dies mid-submit: its first submit reaches the provider (the job
 * is started) and then never returns to record it, until `release` (the dead process's promise
 * ends in an error that changes nothing, as the claim is no longer its own).
 */
function dyingFirstSubmit(real: ProviderAdapter) {
  const gate = Promise.withResolvers<void>();
  let submits = 0;
  const adapter: ProviderAdapter = {
    ...real,
    async submit(model, req, deps) {
      const out = await real.submit(model, req, deps);
      if (++submits === 1) {
        await gate.promise;
        throw new Error("the process died");
      }
      return out;
    },
  };
  return { adapter, release: () => gate.resolve(), sent: () => submits };
}

/** Runs: gen A submits normally; gen B (same request) submits, dies mid-call, is taken over. */
async function crashDuringSubmit(
  provider: ProviderId,
  real: ProviderAdapter,
  upstreamModel: string,
  env: Record<string, string>,
  beforeTakeover?: (kv: Deno.Kv, generationId: string) => Promise<void>,
) {
  const kv = await Deno.openKv(":memory:");
  const clock = testClock(Date.now());
  const timer = manualTimer(); // the dying process renews nothing
  const dying = dyingFirstSubmit(real);
  const model = testModel("t/one", provider, 7);
  model.routes[0].upstreamModel = upstreamModel;
  const logs: string[] = [];
  const deps = (adapter: ProviderAdapter) =>
    testDeps(kv, "/x", {
      now: clock.now,
      every: timer.every,
      adapters: { [provider]: adapter },
      providerDeps: { fetch, env, workDir: "/x" },
      models: [model],
      log: (m) => logs.push(m),
    });
  const org = await fundedOrg(kv, 40, clock.now());
  const body = parseGenerationBody({ model: "t/one", prompt: "a fox in snow", duration: 2 });
  // Another generation with the very same request, submitted and recorded normally first.
  const a = await createGeneration(deps(real), org.id, body);
  await submitGeneration(deps(real), a.id);
  const recordedA = (await getGeneration(kv, org.id, a.id)).provider_job_id;
  assert.ok(recordedA);
  clock.advance(2_000);

  const b = await createGeneration(deps(dying.adapter), org.id, body);
  const dead = submitGeneration(deps(dying.adapter), b.id);
  while (dying.sent() === 0) await new Promise((r) => setTimeout(r, 5));
  let g = await getGeneration(kv, org.id, b.id);
  assert.equal(g.status, "pending");
  assert.equal(g.attempts.length, 1); // the attempt was recorded before sending
  clock.set(g.next_check_at! + 1_000); // the lease lapsed: the takeover job arrives
  await beforeTakeover?.(kv, b.id);
  await submitGeneration(deps(real), b.id); // another process (a working adapter) takes over
  g = await getGeneration(kv, org.id, b.id);
  dying.release();
  await dead;
  const after = await getGeneration(kv, org.id, b.id);
  assert.deepEqual(after, g); // the dead process's late end changed nothing
  const route = await routeStatus(kv, "t/one", provider, clock.now());
  assert.equal(g.status, "processing");
  assert.match(g.attempts[0].error ?? "", /took the submit over/);
  assert.equal(g.attempts[1].upstream_job_id, g.provider_job_id);
  assert.equal(route.interrupted_submits, 1);
  assert.equal(await getBalance(kv, org.id), 26); // each customer paid once
  assert.ok((await verifyLedger(kv, org.id)).ok);
  kv.close();
  return { g, recordedA, route, logs };
}

for (
  const [provider, real, upstream] of [
    ["replicate", replicateProvider, "kwaivgi/kling-v2.5-turbo-pro"],
    ["luma", lumaProvider, "ray-2"],
  ] as const
) {
  Deno.test(`${provider}: a submit cut by a crash is found upstream and adopted: one job per generation`, async () => {
    const clock = { now: () => Date.now() };
    await using standin = startJobsStandin(() => clock.now());
    const run = await crashDuringSubmit(provider, real, upstream, standin.env);
    // Two generations, two upstream jobs: the crashed submit's job was adopted, not repeated,
    // and the identical request's recorded job was left to its own generation.
    assert.equal(standin.jobs.length, 2);
    const [jobA, jobB] = standin.jobs.map((j) => j.id);
    assert.equal(run.recordedA, jobA);
    assert.equal(run.g.provider_job_id, jobB);
    assert.equal(run.route.duplicate_jobs, 0);
    assert.equal(run.route.orphans_adopted, 1);
    assert.ok(
      run.logs.some((l) => l.includes(`adopted ${provider} job ${jobB}`)),
      run.logs.join("\n"),
    );
  });
}

Deno.test("replicate: a takeover that adopted the orphan and died in turn is succeeded by one that adopts it again", async () => {
  await using standin = startJobsStandin(() => Date.now());
  const run = await crashDuringSubmit(
    "replicate",
    replicateProvider,
    "kwaivgi/kling-v2.5-turbo-pro",
    standin.env,
    async (kv, id) => {
      // The first takeover claimed the orphan, then its process died before recording it.
      await kv.set(["upstream_job", "replicate", standin.jobs[1].id], id);
    },
  );
  assert.equal(standin.jobs.length, 2);
  assert.equal(run.g.provider_job_id, standin.jobs[1].id);
});

Deno.test("fal (no job listing): a submit cut by a crash is submitted again and the orphan counted", async () => {
  await using standin = await startFalStandin();
  const fal = { ...falProvider, pollIntervalMs: 20 };
  const run = await crashDuringSubmit(
    "fal",
    fal,
    "fal-ai/bytedance/seedance/v1/lite/text-to-video",
    standin.env as Record<string, string>,
  );
  // Gen A's job, the dead process's orphan and the takeover's job: fal cannot be asked for the
  // orphan, so it runs unrecorded; the operator sees it as an interrupted submit.
  assert.equal(standin.counts.submit, 3);
  assert.notEqual(run.g.provider_job_id, run.recordedA);
  assert.equal(run.route.orphans_adopted, 0);
  assert.ok(run.logs.some((l) => /submit to fal the process submitting it stopped/.test(l)));
});
