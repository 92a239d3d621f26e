import { timingSafeEqual } from "node:crypto";
import { define } from "../../../utils.ts";
import { NotFound, Unauthorized } from "../../../lib/errors.ts";
import { sha256Hex } from "../../../lib/crypto.ts";

/**
 * The operators' API exists only when ADMIN_TOKEN is set (otherwise every path is 404); the
 * bearer is compared in constant time (both sides hashed first, so lengths match).
 */
export const handler = define.middleware(async (ctx) => {
  const token = ctx.state.services.config.ADMIN_TOKEN;
  if (!token) throw new NotFound();
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.get("Authorization") ?? "");
  const enc = new TextEncoder();
  const [given, expected] = await Promise.all([sha256Hex(m?.[1] ?? ""), sha256Hex(token)]);
  if (!m || !timingSafeEqual(enc.encode(given), enc.encode(expected))) {
    throw new Unauthorized("Missing or invalid admin token", "invalid_admin_token");
  }
  return ctx.next();
});
