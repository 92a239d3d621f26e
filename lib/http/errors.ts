import { HttpError } from "../fresh/mod.ts";
import { AppError } from "../errors.ts";

/** API.md's error body: `message` at the top for existing clients, `error` for programs. */
export interface ApiErrorBody {
  message: string;
  error: { type: string; code: string; param: string | null };
  data?: Record<string, unknown>;
}

const HTTP_TYPES: Record<number, [string, string]> = {
  400: ["invalid_request_error", "invalid_request"],
  401: ["authentication_error", "invalid_api_key"],
  403: ["permission_error", "forbidden"],
  404: ["not_found_error", "not_found"],
  405: ["invalid_request_error", "method_not_allowed"],
  409: ["invalid_request_error", "conflict"],
  413: ["invalid_request_error", "payload_too_large"],
  429: ["rate_limit_error", "rate_limit_exceeded"],
};

/** Maps any thrown value to a status, headers and the API error body; internals never leak. */
export function toApiError(err: unknown): { status: number; headers: Headers; body: ApiErrorBody } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      headers: new Headers(err.headers),
      body: {
        message: err.message,
        error: { type: err.type, code: err.code, param: err.param },
        ...(err.data ? { data: err.data } : {}),
      },
    };
  }
  if (err instanceof HttpError && err.status < 500) {
    const [type, code] = HTTP_TYPES[err.status] ?? ["invalid_request_error", "http_error"];
    return {
      status: err.status,
      headers: new Headers(err.headers),
      body: { message: err.message, error: { type, code, param: null } },
    };
  }
  return {
    status: 500,
    headers: new Headers(),
    body: {
      message: "Internal server error",
      error: { type: "api_error", code: "internal_error", param: null },
    },
  };
}

export function isUnexpected(err: unknown): boolean {
  return !(err instanceof AppError) && !(err instanceof HttpError && err.status < 500);
}

export function apiErrorResponse(err: unknown, requestId?: string): Response {
  const { status, headers, body } = toApiError(err);
  headers.set("Content-Type", "application/json; charset=utf-8");
  if (requestId) headers.set("X-Request-Id", requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

/** Logs an unexpected error once, with the request id; expected 4xx errors are not logged. */
export function logIfUnexpected(
  log: (level: "error", msg: string, fields: Record<string, unknown>) => void,
  err: unknown,
  fields: Record<string, unknown>,
) {
  if (!isUnexpected(err)) return;
  const detail = err instanceof Error
    ? { error: err.message, stack: err.stack?.split("\n").slice(0, 6).join("\n") }
    : { error: String(err) };
  log("error", "unhandled error", { ...fields, ...detail });
}
