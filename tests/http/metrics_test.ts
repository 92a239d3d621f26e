import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { call, fundedOrg, waitFor } from "../support/api.ts";
import { freePort } from "../support/app_process.ts";
import { ignoreWithout, requireTool } from "../support/tools.ts";
import { kvFileWithDeadJob } from "../support/dead_job.ts";
import { openKv } from "../../lib/db/kv.ts";
import { retryDeadJob } from "../../lib/db/jobs.ts";
import { BREAKER_MIN_SAMPLES, recordRouteOutcome } from "../../lib/generations/breaker.ts";

const METRICS_TOKEN = "metrics-token-0123456789";
const ADMIN_TOKEN = "admin-token-0123456789abcdef";

const scrape = (server: TestServer, token?: string) =>
  fetch(`${server.url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

/** Runs one local generation to completion, so every generation metric has a sample. */
async function completeOneGeneration(server: TestServer) {
  const { key } = await fundedOrg(server.services, 500);
  const created = await call(server.url, "POST", "/v1/video/generations", {
    key,
    body: { model: "local/preview", prompt: "a lighthouse", duration: 1, resolution: "360p" },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  await waitFor(
    async () => {
      const r = await call(server.url, "GET", `/v1/video/generations/${created.body.id}`, { key });
      assert.ok(!["failed", "cancelled"].includes(r.body.status), JSON.stringify(r.body));
      return r.body.status === "completed" || undefined;
    },
    "the generation to complete",
    60_000,
  );
}

Deno.test("/metrics: refused without the token, METRICS_TOKEN or else ADMIN_TOKEN opens it", async () => {
  const server = await startTestServer({ METRICS_TOKEN, ADMIN_TOKEN });
  try {
    for (const token of [undefined, "wrong-token-0123456789", ADMIN_TOKEN]) {
      const res = await scrape(server, token);
      await res.body?.cancel();
      assert.equal(res.status, 401, `token ${token}`);
      assert.match(res.headers.get("WWW-Authenticate") ?? "", /^Bearer/);
    }
    const ok = await scrape(server, METRICS_TOKEN);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("Content-Type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(await ok.text(), /# TYPE pipevideo_http_requests_total counter/);
  } finally {
    await server.close();
  }
  const fallback = await startTestServer({ ADMIN_TOKEN });
  try {
    const res = await scrape(fallback, ADMIN_TOKEN);
    await res.body?.cancel();
    assert.equal(res.status, 200);
  } finally {
    await fallback.close();
  }
  const off = await startTestServer({});
  try {
    const res = await scrape(off, ADMIN_TOKEN);
    await res.body?.cancel();
    assert.equal(res.status, 404);
  } finally {
    await off.close();
  }
});

Deno.test("/metrics: the documented names, with route patterns rather than paths", async () => {
  const server = await startTestServer({ METRICS_TOKEN }, {}, { background: true });
  try {
    await completeOneGeneration(server);
    const text = await (await scrape(server, METRICS_TOKEN)).text();
    for (
      const name of [
        "pipevideo_http_requests_total",
        "pipevideo_http_request_duration_seconds",
        "pipevideo_generations_total",
        "pipevideo_generation_duration_seconds",
        "pipevideo_credits_charged_cents_total",
        "pipevideo_credits_refunded_cents_total",
        "pipevideo_provider_requests_total",
        "pipevideo_provider_request_duration_seconds",
        "pipevideo_jobs_due",
        "pipevideo_jobs_dead",
        "pipevideo_job_pickup_seconds",
        "pipevideo_breaker_open",
        "pipevideo_ratelimit_rejections_total",
        "pipevideo_upstream_duplicates_total",
      ]
    ) assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    assert.match(
      text,
      /^pipevideo_generations_total\{model="local\/preview",provider="local",status="completed"\} [1-9]/m,
    );
    assert.match(
      text,
      /^pipevideo_generation_duration_seconds_bucket\{le="600",model="local\/preview",provider="local"\} [1-9]/m,
    );
    assert.match(text, /^pipevideo_credits_charged_cents_total [1-9]/m);
    assert.match(
      text,
      /^pipevideo_provider_requests_total\{provider="local",outcome="ok"\} [1-9]/m,
    );
    assert.match(text, /^pipevideo_jobs_due\{lane="work"\} \d/m);
    // The polled generation shows up under its route's pattern, never under its id.
    assert.match(
      text,
      /^pipevideo_http_requests_total\{route="\/v1\/video\/generations\/:id",method="GET",status="200"\} [1-9]/m,
    );
    assert.doesNotMatch(text, /route="[^"]*gen_/);
    const polls =
      /^pipevideo_http_request_duration_seconds_count\{route="\/v1\/video\/generations\/:id"\} (\d+)$/m
        .exec(text)?.[1];
    assert.ok(Number(polls) >= 1, "the histogram counts the polls");
    assert.match(
      text,
      new RegExp(
        `^pipevideo_http_request_duration_seconds_bucket\\{le="\\+Inf",route="/v1/video/generations/:id"\\} ${polls}$`,
        "m",
      ),
    );
  } finally {
    await server.close();
  }
});

Deno.test({
  name: "/metrics passes promtool check metrics",
  ignore: ignoreWithout("promtool"),
  async fn() {
    const promtool = requireTool("promtool");
    const server = await startTestServer({ METRICS_TOKEN }, {}, { background: true });
    try {
      await completeOneGeneration(server);
      const text = await (await scrape(server, METRICS_TOKEN)).text();
      const check = new Deno.Command(promtool, {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = check.stdin.getWriter();
      await w.write(new TextEncoder().encode(text));
      await w.close();
      const out = await check.output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, said);
      assert.equal(said.trim(), "", `promtool has remarks:\n${said}`);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "a real Prometheus scrapes /metrics and its query API returns the generation counter",
  ignore: ignoreWithout("prometheus"),
  fn: scrapedByPrometheus,
});

async function scrapedByPrometheus() {
  const prometheus = requireTool("prometheus");
  const server = await startTestServer({ METRICS_TOKEN }, {}, { background: true });
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-prometheus-" });
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  try {
    await completeOneGeneration(server);
    const target = new URL(server.url);
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: pipevideo",
        "    authorization:",
        `      credentials: ${METRICS_TOKEN}`,
        "    static_configs:",
        `      - targets: ["${target.host}"]`,
      ].join("\n") + "\n",
    );
    child = new Deno.Command(prometheus, {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const query = encodeURIComponent(
      'pipevideo_generations_total{model="local/preview",status="completed"}',
    );
    const value = await waitFor(
      async () => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${query}`);
          const body = await res.json();
          const [sample] = body?.data?.result ?? [];
          return sample ? Number(sample.value[1]) : undefined;
        } catch {
          return undefined; // not listening yet
        }
      },
      "Prometheus to have scraped the generation counter",
      60_000,
    );
    assert.ok(value >= 1, `pipevideo_generations_total = ${value}`);
  } finally {
    child?.kill("SIGTERM");
    await child?.status;
    await server.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("/metrics: dead and due jobs and open breakers are read from the shared KV at scrape time", async () => {
  const path = await kvFileWithDeadJob();
  const server = await startTestServer({ METRICS_TOKEN }, { kv: await openKv(path) });
  try {
    const gauge = async (series: string) => {
      const text = await (await scrape(server, METRICS_TOKEN)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(" ")[1]);
    };
    assert.equal(await gauge("pipevideo_jobs_dead"), 1);
    assert.equal(await gauge('pipevideo_jobs_due{lane="work"}'), 0);
    assert.equal(await retryDeadJob(server.services.kv, "report.render", "r1", Date.now()), true);
    assert.equal(await gauge("pipevideo_jobs_dead"), 0);
    assert.equal(await gauge('pipevideo_jobs_due{lane="work"}'), 1);

    // Transient failures open the route's breaker (as another instance would record them).
    const now = Date.now();
    for (let i = 0; i < BREAKER_MIN_SAMPLES; i++) {
      await recordRouteOutcome(server.services.kv, "kling/v2.1", "fal", false, now);
    }
    await recordRouteOutcome(server.services.kv, "veo/3", "gemini", true, now);
    assert.equal(await gauge('pipevideo_breaker_open{provider="fal",route="kling/v2.1"}'), 1);
    assert.equal(await gauge('pipevideo_breaker_open{provider="gemini",route="veo/3"}'), 0);
  } finally {
    await server.close();
    await Deno.remove(path.replace(/\/kv\.sqlite$/, ""), { recursive: true }).catch(() => {});
  }
});
