import assert from "node:assert/strict";
import { adminOrg, freePort, spawnApp, stopApp, waitUp } from "../support/app_process.ts";
import { waitFor } from "../support/api.ts";

/** An OTLP/HTTP (JSON) span as Deno's exporter sends it. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string } }[];
  links: { traceId: string; spanId: string }[];
}

/** Waits for a synchronous condition over what has arrived so far. */
const until = <T>(f: () => T | undefined, what: string, timeoutMs?: number) =>
  waitFor(() => Promise.resolve(f()), what, timeoutMs);

const SERVER = 2; // OTLP SpanKind SPAN_KIND_SERVER
const attr = (s: OtlpSpan, key: string) =>
  s.attributes.find((a) => a.key === key)?.value.stringValue;

/** A local OTLP/HTTP receiver that keeps every span it is sent. */
function startOtlpReceiver() {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json().catch(() => ({}));
    if (new URL(req.url).pathname === "/v1/traces") {
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
    }
    return Response.json({});
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, spans, close: () => server.shutdown() };
}

Deno.test("tracing on: the provider call's span carries the GenAI attributes and the generation id, its job links to the request, logs name the trace", async () => {
  const receiver = startOtlpReceiver();
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-otel-" });
  const app = spawnApp(dir, freePort(), {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: "pipevideo-test",
  }, "piped");
  let stdout = "";
  const reading = app.child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (stdout += chunk) }),
  );
  const draining = app.child.stderr.cancel();
  try {
    await waitUp(app);
    const { api } = await adminOrg(app.url, 500, "Traced");
    const res = await fetch(`${app.url}/v1/video/generations`, {
      method: "POST",
      headers: api,
      body: JSON.stringify({
        model: "local/preview",
        prompt: "a lighthouse",
        duration: 1,
        resolution: "360p",
      }),
    });
    const { id } = await res.json();
    assert.equal(res.status, 200);

    const submit = await until(
      () =>
        receiver.spans.find((s) =>
          attr(s, "pipevideo.generation_id") === id &&
          attr(s, "gen_ai.operation.name") === "video.submit"
        ),
      "the provider-call span",
      60_000,
    );
    assert.equal(attr(submit, "gen_ai.system"), "local");
    assert.equal(attr(submit, "gen_ai.request.model"), "preview");

    // The provider call runs inside its job's span, which links to the request that enqueued it.
    const job = await until(
      () => receiver.spans.find((s) => s.spanId === submit.parentSpanId),
      "the job span",
      30_000,
    );
    assert.equal(job.name, "job generation.submit");
    assert.equal(attr(job, "pipevideo.generation_id"), id);
    assert.equal(job.links.length, 1);
    const request = await until(
      () => receiver.spans.find((s) => s.spanId === job.links[0].spanId),
      "the request span",
      30_000,
    );
    assert.equal(request.kind, SERVER);
    assert.equal(request.traceId, job.links[0].traceId);
    assert.notEqual(request.traceId, job.traceId);

    // The request's JSON log line names its trace.
    const line = await until(
      () =>
        stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) =>
          l.msg === "request" && l.method === "POST" && l.path === "/v1/video/generations"
        ),
      "the request's log line",
    );
    assert.equal(line.trace_id, request.traceId);
  } finally {
    await stopApp(app);
    await reading.catch(() => {});
    await draining.catch(() => {});
    await receiver.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("tracing off (the default): log lines carry no trace id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipevideo-otel-off-" });
  const app = spawnApp(dir, freePort(), {}, "piped");
  let stdout = "";
  const reading = app.child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (stdout += chunk) }),
  );
  const draining = app.child.stderr.cancel();
  try {
    await waitUp(app);
    await (await fetch(`${app.url}/healthz`)).body?.cancel();
    const line = await until(
      () =>
        stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) =>
          l.msg === "request" && l.path === "/healthz"
        ),
      "the request's log line",
    );
    assert.equal(line.trace_id, undefined);
  } finally {
    await stopApp(app);
    await reading.catch(() => {});
    await draining.catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
