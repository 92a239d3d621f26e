import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { createKvJobQueue } from "../../lib/jobs.ts";
import { call } from "../support/api.ts";

const TOKEN = "admin-token-0123456789";

Deno.test("admin jobs API: a job that keeps failing is listed as dead with its error, and retried from there", async () => {
  const kv = await Deno.openKv(":memory:");
  // A quick schedule so the job dies in well under a second; the app's handler table is real.
  const jobs = createKvJobQueue(kv, () => {}, { pollMs: 50, backoffMs: [20], maxAttempts: 2 });
  const server = await startTestServer({ ADMIN_TOKEN: TOKEN }, { kv, jobs }, { background: true });
  const admin = (method: string, path: string, body?: unknown, token = TOKEN) =>
    call(server.url, method, path, { body, headers: { Authorization: `Bearer ${token}` } });
  const deadJobs = async () => (await admin("GET", "/admin/v1/jobs?state=dead")).body.data;
  try {
    assert.equal(
      (await admin("GET", "/admin/v1/jobs?state=dead", undefined, "x".repeat(20))).status,
      401,
    );
    const bad = await admin("GET", "/admin/v1/jobs?state=lost");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, "state");

    // A job no handler knows (left by a newer version, say) fails every attempt.
    await jobs.enqueue({ type: "report.render", id: "r1", org: "org_1" });
    const end = Date.now() + 5_000;
    while (!(await deadJobs()).length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const [dead] = await deadJobs();
    assert.equal(dead.type, "report.render");
    assert.equal(dead.id, "r1");
    assert.equal(dead.org_id, "org_1");
    assert.equal(dead.state, "dead");
    assert.equal(dead.attempts, 2);
    assert.match(dead.last_error, /no handler for job type report\.render/);
    assert.equal(typeof dead.failed_at, "number");
    assert.deepEqual((await admin("GET", "/admin/v1/jobs?state=pending")).body.data, []);

    const missing = await admin("POST", "/admin/v1/jobs/retry", {
      type: "report.render",
      id: "r2",
    });
    assert.equal(missing.status, 404);
    const retried = await admin("POST", "/admin/v1/jobs/retry", {
      type: "report.render",
      id: "r1",
    });
    assert.equal(retried.status, 200);
    assert.deepEqual(retried.body, { retried: true });
    // Back in the queue with a fresh count: it runs its attempts again and parks again.
    const pendingOrDead = async () => [
      ...(await admin("GET", "/admin/v1/jobs?state=pending")).body.data,
      ...await deadJobs(),
    ];
    assert.equal((await pendingOrDead()).length, 1);
    while (!(await deadJobs()).length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await deadJobs())[0].attempts, 2);
  } finally {
    await server.close();
  }
});
