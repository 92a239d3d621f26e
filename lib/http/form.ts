import { AppError, BadRequest } from "../errors.ts";

/**
 * Reads a form body (urlencoded or multipart) like `req.formData()`, but a body that is not a
 * form (JSON, no body, another content type, broken multipart) is a 400 "Request body must be a
 * form", not a 500. Errors the app raised while reading (body too large: 413) pass through.
 */
export async function readForm(req: Request): Promise<FormData> {
  try {
    return await req.formData();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new BadRequest("Request body must be a form", null, "invalid_form");
  }
}

/** `readForm` as a plain object (the last value of a repeated field), ready for a zod schema. */
export async function readFormObject(req: Request): Promise<Record<string, FormDataEntryValue>> {
  return Object.fromEntries(await readForm(req));
}
