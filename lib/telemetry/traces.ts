import {
  type Attributes,
  context,
  createContextKey,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";

/**
 * Spans for the work Deno does not trace itself (it makes the request and fetch spans): a job
 * run, linked to the request that enqueued it, and a provider call with the GenAI attributes.
 * Deno's built-in exporter registers itself with @opentelemetry/api when OTEL_DENO=true; off,
 * every function here calls straight through, so tracing costs nothing by default.
 */
export const tracingOn = readTracingFlag();

function readTracingFlag(): boolean {
  try {
    return Deno.env.get("OTEL_DENO") === "true" || Deno.env.get("OTEL_DENO") === "1";
  } catch {
    return false; // no env permission: no tracing
  }
}

const tracer = trace.getTracer("pipevideo");
const GENERATION_ID = createContextKey("pipevideo.generation_id");

/** The active span's trace id, for the JSON log line (undefined when tracing is off). */
export function activeTraceId(): string | undefined {
  if (!tracingOn) return undefined;
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

/** The active span as a W3C traceparent, stored with an enqueued job so its run links back. */
export function activeTraceParent(): string | undefined {
  if (!tracingOn) return undefined;
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags & TraceFlags.SAMPLED}`;
}

function linkFrom(traceparent: string | undefined): Link[] {
  const m = traceparent && /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent);
  if (!m) return [];
  return [{
    context: { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true },
  }];
}

async function inSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error)?.message ?? err) });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A job run as its own trace root, linked to the span that enqueued it. Generation jobs carry
 * the generation id, which the provider calls made inside pick up.
 */
export function traceJobRun<T>(
  job: { type: string; id: string },
  enqueuedBy: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracingOn) return fn();
  const generationId = job.type.startsWith("generation.") ? job.id : undefined;
  const attributes: Attributes = { "pipevideo.job.type": job.type, "pipevideo.job.id": job.id };
  if (generationId) attributes["pipevideo.generation_id"] = generationId;
  let ctx = trace.deleteSpan(context.active());
  if (generationId) ctx = ctx.setValue(GENERATION_ID, generationId);
  return context.with(ctx, () =>
    tracer.startActiveSpan(
      `job ${job.type}`,
      { kind: SpanKind.CONSUMER, attributes, links: linkFrom(enqueuedBy) },
      (span) => inSpan(span, fn),
    ));
}

/** A call to a provider adapter, with the GenAI semantic-convention attributes that fit. */
export function traceProviderCall<T>(
  call: { provider: string; operation: string; model?: string },
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracingOn) return fn();
  const attributes: Attributes = {
    "gen_ai.system": call.provider,
    "gen_ai.operation.name": call.operation,
  };
  if (call.model) attributes["gen_ai.request.model"] = call.model;
  const generationId = context.active().getValue(GENERATION_ID);
  if (typeof generationId === "string") attributes["pipevideo.generation_id"] = generationId;
  return tracer.startActiveSpan(
    `${call.operation} ${call.provider}`,
    { kind: SpanKind.CLIENT, attributes },
    (span) => inSpan(span, fn),
  );
}
