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
    // Every argument passed on, whatever the interface grows (an operator route's mapping).
    submit: (...args) => observed("video.submit", args[0], () => adapter.submit(...args)),
    poll: (...args) => observed("video.poll", undefined, () => adapter.poll(...args)),
    ...(adapter.cancel
      ? {
        cancel: (...args) => observed("video.cancel", undefined, () => adapter.cancel!(...args)),
      }
      : {}),
  };
}
