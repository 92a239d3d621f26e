/**
 * How the workers ride out provider faults (docs/faults.md): one table per provider saying which
 * refusals are transient (the same route will likely take the job in a moment), which mean "try
 * another route" and which are the request's own fault; the backoff between retries; and the
 * connect and total timeouts every outbound provider call runs under.
 */
import { type FailureCode, type ProviderDeps, ProviderError, type ProviderId } from "./types.ts";

/**
 * transient: retry the same route after a backoff (429, 5xx, resets, timeouts);
 * reroute: this route will not take it now, another may (out of credit, output moderated);
 * permanent: the request is refused as it is (bad input, bad key, prompt moderation).
 */
export type FaultKind = "transient" | "reroute" | "permanent";

interface FaultTable {
  /** By HTTP status; a status not listed falls back to the adapter's `retryable` flag. */
  status: Record<number, FaultKind>;
}

const COMMON: Record<number, FaultKind> = {
  400: "permanent",
  401: "permanent",
  403: "permanent",
  404: "permanent",
  408: "transient",
  409: "transient",
  422: "permanent",
  425: "transient",
  429: "transient",
  500: "transient",
  502: "transient",
  503: "transient",
  504: "transient",
};

/** The one table: per provider, what its refusals of a submit mean. */
export const FAULT_TABLES: Record<ProviderId, FaultTable> = {
  // fal: 422 is a validation error (or content_policy_violation on the prompt).
  fal: { status: { ...COMMON } },
  // Replicate: 402 is an account out of credit; a route on another account may still take it.
  replicate: { status: { ...COMMON, 402: "reroute" } },
  // Runway: 429 covers both throttling and the daily task limit; both clear with time.
  runway: { status: { ...COMMON } },
  // Luma: 402/403 for an exhausted plan; another route may be paid for.
  luma: { status: { ...COMMON, 402: "reroute" } },
  // Gemini: 429 RESOURCE_EXHAUSTED is quota that refills; 403 is a key without access.
  gemini: { status: { ...COMMON } },
  // The local renderer: a failed render may well succeed on retry (it is free).
  local: { status: {} },
};

/** Classifies a submit failure. Faults without a status (resets, timeouts) are transient. */
export function classifyFault(provider: ProviderId, err: unknown): FaultKind {
  if (!(err instanceof ProviderError)) return "permanent";
  // The route's model is gone (retired, renamed, not on this account): another route may serve it.
  if (modelGone(err)) return "reroute";
  if (err.status === undefined) return err.retryable ? "transient" : "permanent";
  const listed = FAULT_TABLES[provider]?.status[err.status];
  return listed ?? (err.retryable ? "reroute" : "permanent");
}

// How providers word a model that no longer exists: Google "models/x is not found for API version
// v1beta, or is not supported for predictLongRunning"; others "model … deprecated/retired".
const MODEL_GONE =
  /\bmodel\b.*\b(not found|not supported|no longer|deprecated|retired|shut ?down|discontinued)\b|\b(not found|retired|deprecated)\b.*\bmodel\b/i;

/** True when the upstream says the route's model or endpoint does not exist (any more). */
export function modelGone(err: ProviderError): boolean {
  if (err.code === "model_unavailable") return true;
  if (err.status === 404 || err.status === 410) return true;
  return (err.status === 400 || err.status === 403) && MODEL_GONE.test(err.message);
}

// Provider words for a refusal on content grounds (fal content_policy_violation, Google's
// safety filters and raiMediaFilteredReasons, Runway/Luma/Replicate moderation messages).
const MODERATED =
  /content[_ ]policy|moderat|safety (filter|system|check)|\bnsfw\b|\bsensitive content/i;

/**
 * The machine-readable reason a provider failure gives the generation (API.md, "Failure
 * reasons"): the adapter's own word when it has one, else read from status and message.
 */
export function failureCode(err: unknown): FailureCode {
  if (!(err instanceof ProviderError)) return "provider_error";
  if (err.code) return err.code;
  if (MODERATED.test(err.message)) return "content_moderated";
  if (modelGone(err)) return "model_unavailable";
  if (err.status === 400 || err.status === 422) return "invalid_input";
  return "provider_error";
}

/** Retries of one route's submit before falling back to the next route. */
export const MAX_SUBMIT_RETRIES = 3;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 30_000;

/**
 * The wait before retry number `retry` (0-based): exponential with jitter (half to full of the
 * step, so instances that failed together do not retry together), never less than Retry-After.
 */
export function retryDelayMs(retry: number, retryAfterMs?: number, random = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
  return Math.round(Math.max(step * (0.5 + random() / 2), retryAfterMs ?? 0));
}

export interface Timeouts {
  /** Until the response headers arrive (connect, TLS, the upstream's think time). */
  connectMs: number;
  /** The whole call, body included. */
  totalMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 60_000;

/** The env prefix of a provider's per-provider timeout override (`FAL_TIMEOUT_MS`). */
const ENV_PREFIX: Record<ProviderId, string> = {
  fal: "FAL",
  gemini: "GEMINI",
  replicate: "REPLICATE",
  runway: "RUNWAYML",
  luma: "LUMAAI",
  local: "LOCAL",
};

function envMs(env: ProviderDeps["env"], name: string): number | undefined {
  const v = Number(env[name]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** A provider's timeouts from config: its own override, else the common setting, else defaults. */
export function providerTimeouts(provider: ProviderId, env: ProviderDeps["env"]): Timeouts {
  const prefix = ENV_PREFIX[provider];
  return {
    connectMs: envMs(env, `${prefix}_CONNECT_TIMEOUT_MS`) ??
      envMs(env, "PROVIDER_CONNECT_TIMEOUT_MS") ?? DEFAULT_CONNECT_TIMEOUT_MS,
    totalMs: envMs(env, `${prefix}_TIMEOUT_MS`) ?? envMs(env, "PROVIDER_TIMEOUT_MS") ??
      DEFAULT_TOTAL_TIMEOUT_MS,
  };
}

/**
 * fetch under a connect and a total timeout: a hung upstream becomes a rejected promise (which
 * upstreamFetch turns into a retryable ProviderError), so it cannot hold a worker slot.
 */
export function timedFetch(fetchFn: typeof fetch, t: Timeouts): typeof fetch {
  return async (input, init = {}) => {
    const headers = new AbortController();
    const timer = setTimeout(
      () => headers.abort(new DOMException(`no response after ${t.connectMs} ms`, "TimeoutError")),
      t.connectMs,
    );
    // AbortSignal.timeout also bounds reading the body, and its timer keeps no process alive.
    const signals = [headers.signal, AbortSignal.timeout(t.totalMs)];
    if (init.signal) signals.push(init.signal);
    try {
      return await fetchFn(input, { ...init, signal: AbortSignal.any(signals) });
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The adapter's deps with its provider's timeouts on every fetch. */
export function withTimeouts(deps: ProviderDeps, provider: ProviderId): ProviderDeps {
  return { ...deps, fetch: timedFetch(deps.fetch, providerTimeouts(provider, deps.env)) };
}
