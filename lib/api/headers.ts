import { z } from "zod";
import { parseWith } from "../http/json.ts";

/** The headers a create takes on every surface (API.md): checked like a body, naming the header. */
const createHeadersSchema = z.object({
  "Idempotency-Key": z.string().trim().min(1, "must not be empty")
    .max(255, "must be at most 255 characters").nullable(),
  "X-Application-Name": z.string().trim().max(256, "must be at most 256 characters").nullable(),
});

export function readCreateHeaders(req: Request): {
  idempotencyKey: string | null;
  applicationName: string | null;
} {
  const h = parseWith(createHeadersSchema, {
    "Idempotency-Key": req.headers.get("Idempotency-Key"),
    "X-Application-Name": req.headers.get("X-Application-Name"),
  });
  return {
    idempotencyKey: h["Idempotency-Key"],
    applicationName: h["X-Application-Name"] || null,
  };
}
