/**
 * Typed errors thrown by lib/ and mapped to HTTP in one place (lib/http/errors.ts).
 * `type` and `code` follow API.md's error object; `param` names the offending field.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class BadRequest extends AppError {
  constructor(message: string, param: string | null = null, code = "invalid_request") {
    super(400, "invalid_request_error", code, message, param);
  }
}

export class Unauthorized extends AppError {
  constructor(message = "Missing or invalid API key", code = "invalid_api_key") {
    super(401, "authentication_error", code, message);
  }
}

export class Forbidden extends AppError {
  constructor(message = "You do not have permission to do this") {
    super(403, "permission_error", "forbidden", message);
  }
}

export class NotFound extends AppError {
  constructor(message = "Not found", param: string | null = null) {
    super(404, "not_found_error", "not_found", message, param);
  }
}

export class Conflict extends AppError {
  constructor(message: string, code = "conflict") {
    super(409, "invalid_request_error", code, message);
  }
}

export class InsufficientCredits extends AppError {
  constructor(needed: number, balance: number) {
    super(
      402,
      "billing_error",
      "insufficient_credits",
      `Insufficient credits: this request costs ${needed} cents and the balance is ${balance} cents`,
    );
  }
}

/** When a spend allowance resets, as the 402 messages say it. */
function resetWords(what: string, resetsAtMs: number | null): string {
  return resetsAtMs === null
    ? `The ${what} does not reset; raise it to continue.`
    : `The ${what} resets at ${new Date(resetsAtMs).toISOString()}.`;
}

export class KeyLimitExceeded extends AppError {
  constructor(limit: number, spent: number, cost: number, resetsAtMs: number | null) {
    super(
      402,
      "billing_error",
      "key_limit_exceeded",
      `This API key's spend limit is ${limit} cents and ${spent} cents are spent; this request ` +
        `costs ${cost} cents. ${resetWords("limit", resetsAtMs)}`,
      null,
      {},
      {
        limit_cents: limit,
        spent_cents: spent,
        resets_at: resetsAtMs === null ? null : Math.floor(resetsAtMs / 1000),
      },
    );
  }
}

export class BudgetExceeded extends AppError {
  constructor(budget: number, spent: number, cost: number, resetsAtMs: number) {
    super(
      402,
      "billing_error",
      "budget_exceeded",
      `The organization's monthly budget is ${budget} cents and ${spent} cents are spent this ` +
        `month; this request costs ${cost} cents. ${resetWords("budget", resetsAtMs)}`,
      null,
      {},
      { budget_cents: budget, spent_cents: spent, resets_at: Math.floor(resetsAtMs / 1000) },
    );
  }
}

export class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super(413, "invalid_request_error", "payload_too_large", `Request body exceeds ${limit} bytes`);
  }
}

export class RateLimited extends AppError {
  constructor(retryAfterSeconds: number, headers: Record<string, string>) {
    super(
      429,
      "rate_limit_error",
      "rate_limit_exceeded",
      `Rate limit exceeded; retry after ${retryAfterSeconds} seconds`,
      null,
      { ...headers, "Retry-After": String(retryAfterSeconds) },
      { retry_after: retryAfterSeconds },
    );
  }
}
