import { createKvJobQueue } from "../../lib/jobs.ts";
import { getDeadJob } from "../../lib/db/jobs.ts";
import { openKv } from "../../lib/db/kv.ts";

/**
 * A KV file holding one dead background job (`type` no handler knows, parked after its only
 * attempt by the real job runner), and no runner left: what an operator finds after an outage.
 */
export async function kvFileWithDeadJob(
  job = { type: "report.render", id: "r1", org: "org_1" },
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-dead-job-" });
  const path = `${dir}/kv.sqlite`;
  const kv = await openKv(path);
  const jobs = createKvJobQueue(kv, () => {}, { pollMs: 20, maxAttempts: 1 });
  const running = jobs.listen({});
  await jobs.enqueue(job);
  const deadline = Date.now() + 10_000;
  while ((await getDeadJob(kv, job.type, job.id)).value === null) {
    if (Date.now() > deadline) throw new Error("the job did not die");
    await new Promise((r) => setTimeout(r, 20));
  }
  kv.close();
  await running.catch(() => {});
  return path;
}
