import { closest, distance } from "fastest-levenshtein";
import { AppError } from "../errors.ts";

/**
 * Strict request bodies: a field the API does not know is refused, never ignored, so a typo
 * (`resolutoin`) cannot be charged and rendered with the default. Shared by every body the
 * /v1 surfaces take.
 */

/** 400 `unknown_parameter`: `param` names the field; `data.did_you_mean` the close known one. */
export class UnknownParameter extends AppError {
  constructor(field: string, suggestion: string | null) {
    super(
      400,
      "invalid_request_error",
      "unknown_parameter",
      `Unknown parameter ${field}` + (suggestion ? `; did you mean ${suggestion}?` : ""),
      field,
      {},
      suggestion ? { did_you_mean: suggestion } : undefined,
    );
  }
}

/** The known field nearest to `field`, when it is close enough to be a typo of it. */
export function suggestField(field: string, known: readonly string[]): string | null {
  if (known.length === 0) return null;
  const lower = field.toLowerCase();
  const near = closest(lower, known.map((k) => k.toLowerCase()));
  const index = known.findIndex((k) => k.toLowerCase() === near);
  const allowed = Math.max(2, Math.floor(field.length / 3));
  return distance(lower, near) <= allowed ? known[index] : null;
}

/** Throws UnknownParameter for the first field of `body` that is not in `known`. */
export function rejectUnknownFields(
  body: unknown,
  known: readonly string[],
  prefix = "",
): void {
  if (!body || typeof body !== "object" || Array.isArray(body)) return;
  for (const field of Object.keys(body)) {
    if (known.includes(field)) continue;
    const near = suggestField(field, known);
    throw new UnknownParameter(prefix + field, near === null ? null : prefix + near);
  }
}
