import { type ProviderAdapter, ProviderError } from "../providers/types.ts";
import { recordProviderCall } from "./metrics.ts";
import { traceProviderCall } from "./traces.ts";

/**
 * The adapter with its upstream calls (submit, poll, cancel) counted and timed for /metrics and,
 * when tracing is on, each in a span. Applied once where the process assembles its adapters.
 */
export function instrumentAdapter(adapter: ProviderAdapter): ProviderAdapter {
  const provider = adapter.id;
  const observed = <T>(operation: string, model: string | undefined, fn: () => Promise<T>) => {
    const started = performance.now();
    return traceProviderCall({ provider, operation, model }, fn).then(
      (value) => {
        recordProviderCall(provider, "ok", (performance.now() - started) / 1000);
        return value;
      },
      (err) => {
        const outcome = err instanceof ProviderError && err.retryable ? "transient" : "error";
        recordProviderCall(provider, outcome, (performance.now() - started) / 1000);
        throw err;
      },
    );
  };
  return {
    ...adapter,
    submit: (model, req, deps) =>
      observed("video.submit", model, () => adapter.submit(model, req, deps)),
    poll: (jobId, deps) => observed("video.poll", undefined, () => adapter.poll(jobId, deps)),
    ...(adapter.cancel
      ? {
        cancel: (jobId, deps) =>
          observed("video.cancel", undefined, () => adapter.cancel!(jobId, deps)),
      }
      : {}),
  };
}
