import type { z } from "zod";
import { BadRequest, PayloadTooLarge } from "../errors.ts";

/** Parses a JSON body: malformed JSON and schema failures are 400s naming the field. */
export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch (err) {
    if (err instanceof PayloadTooLarge) throw err;
    throw new BadRequest("Request body must be valid JSON", null, "invalid_json");
  }
  return parseWith(schema, raw);
}

export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue.path.length ? issue.path.join(".") : null;
  throw new BadRequest(param ? `${param}: ${issue.message}` : issue.message, param);
}

export function json(data: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("Content-Type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(data), { ...init, headers });
}
