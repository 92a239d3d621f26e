/**
 * The one interface every provider adapter implements (DESIGN.md, "Generation lifecycle").
 * Adapters are thin fetch code: no SDKs, no hidden retries of submissions.
 */

export type ProviderId = "local" | "gemini" | "fal" | "replicate" | "runway" | "luma";

/** What a generation asks for, already validated against the model's capabilities. */
export interface VideoRequest {
  prompt: string;
  duration: number; // seconds
  resolution: string; // "720p"
  aspectRatio: string; // "16:9"
  /** Image-to-video input: the original URL and, when fetched, its bytes. */
  image?: { url: string; bytes?: Uint8Array; mimeType?: string };
  negativePrompt?: string;
  seed?: number;
  audio?: boolean;
  /**
   * The caller left the aspect ratio to the model's default: an image-to-video endpoint that can
   * follow the image's shape is asked to ("auto"), so a portrait image is not cropped.
   */
  aspectRatioDefault?: boolean;
  /** The provider may rewrite the prompt (its prompt expansion / auto-fix); otherwise it is
   * told not to, where the endpoint has such a switch. */
  enhancePrompt?: boolean;
}

/**
 * An operator route's request shape (CATALOG_FILE, "fields" and "defaults"): our option → the
 * provider's field name, and values sent with every request in the provider's own names.
 */
export interface EndpointFields {
  fields: Record<string, string>;
  defaults?: Record<string, string | number | boolean>;
}

/** What an adapter may use: injected so tests point it at a local replay server. */
export interface ProviderDeps {
  fetch: typeof fetch;
  /** Provider settings from the environment: keys and base URLs (names as in DESIGN.md). */
  env: Record<string, string | number | boolean | undefined>;
  /** A folder the adapter may write to (the local provider renders here). */
  workDir: string;
  /** Aborted when the generation ends while its submission runs (the local render stops). */
  signal?: AbortSignal;
}

/** Where the finished video is: a URL to download (with headers, e.g. an API key) or a file. */
export type VideoOutput =
  | { url: string; headers?: Record<string, string> }
  | { file: string };

export type PollResult =
  | { status: "running"; progress?: number; retryAfterMs?: number }
  | { status: "succeeded"; output: VideoOutput; reported?: ReportedUsage }
  | {
    status: "failed";
    message: string;
    retryable: boolean;
    reported?: ReportedUsage;
    /** The reason, where the adapter knows it (else read from the message: faults.ts). */
    code?: FailureCode;
  };

/**
 * Why a generation failed, machine-readable (API.md, "Failure reasons"); stored on the record.
 * Clients treat a code they do not know as provider_error.
 */
export type FailureCode =
  | "content_moderated"
  | "model_unavailable"
  | "provider_error"
  | "timeout"
  | "invalid_input"
  | "cancelled";

/**
 * What the provider says it charged or ran for a job, where it says so (cost reconciliation):
 * Runway's cost in credits, Replicate's metrics.predict_time, fal's x-fal-billable-units.
 */
export interface ReportedUsage {
  /** What the provider charged, in cents, when it says in money (Runway: 1 credit = 1 cent). */
  costCents?: number;
  /** Provider credits as reported (Runway). */
  credits?: number;
  /** Seconds the prediction ran (Replicate metrics.predict_time). */
  predictTimeSeconds?: number;
  /** Billed units in the endpoint's priced unit, e.g. seconds of video (fal). */
  billableUnits?: number;
}

export interface ProviderAdapter {
  id: ProviderId;
  name: string;
  /** True when the environment holds what this provider needs (its key). */
  isConfigured(env: ProviderDeps["env"]): boolean;
  /** How long to wait between polls before backoff. */
  pollIntervalMs: number;
  /** True when submitting the same job twice costs nothing upstream (the local model), so a
   * submission left by a crashed process may be retried soon rather than after a long claim. */
  resubmitSafe?: boolean;
  /**
   * Starts an upstream job. Never retried blindly: a retry could start a second paid job.
   * `endpoint` is an operator route's field mapping (CATALOG_FILE); fal and Replicate build the
   * body from it instead of their own table.
   */
  submit(
    upstreamModel: string,
    req: VideoRequest,
    deps: ProviderDeps,
    endpoint?: EndpointFields,
  ): Promise<{ jobId: string }>;
  /** Asks the upstream for the job's state; network faults throw ProviderError(retryable). */
  poll(jobId: string, deps: ProviderDeps): Promise<PollResult>;
  /**
   * Asks the upstream to stop the job. True only when it confirms the job stopped (fal: still
   * queued; Runway, Replicate: cancelled), so the generation may be refunded; false when it
   * runs on (fal: already started) and will be paid for.
   */
  cancel?(jobId: string, deps: ProviderDeps): Promise<boolean>;
  /**
   * True when `cancel` deletes the job and its output rather than stopping it (Luma's DELETE,
   * which says nothing of the charge): used only on jobs whose video nobody will take (a
   * deadline, a duplicate), never for a user's cancel.
   */
  cancelDeletes?: boolean;
  /**
   * Jobs on this account that this request may have started at or after `sinceMs` (ids, oldest
   * first): where the provider can list jobs with their request (Replicate, Luma), a submit cut
   * off by a crash is found and adopted instead of started again. No provider lets a job be
   * tagged without side effects, so a match is by the request's own fields and its time.
   */
  findOrphan?(
    upstreamModel: string,
    req: VideoRequest,
    sinceMs: number,
    deps: ProviderDeps,
  ): Promise<string[]>;
}

/**
 * A provider-side failure. `retryable` means another attempt (or another route) may succeed:
 * downtime, 429, 5xx, moderation of the output. `retryAfterMs` honours Retry-After.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
    /** The failure's reason when the adapter knows it better than status and message say. */
    readonly code?: FailureCode,
  ) {
    super(message);
  }
}
