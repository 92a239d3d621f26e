import { timingSafeEqual } from "node:crypto";
import { define } from "../../../utils.ts";
import { NotFound, Unauthorized } from "../../../lib/errors.ts";
import { sha256Hex } from "../../../lib/crypto.ts";
import { bearerToken } from "../../../lib/http/bearer.ts";

/**
 * The operators' API exists only when ADMIN_TOKEN is set (otherwise every path is 404); the
 * bearer is compared in constant time (both sides hashed first, so lengths match).
 */
export const handler = define.middleware((ctx) => {
  const token = ctx.state.services.config.ADMIN_TOKEN;
  if (!token) throw new NotFound();
  const given = bearerToken(ctx.req);
  const enc = new TextEncoder();
  const [givenHash, expectedHash] = [sha256Hex(given ?? ""), sha256Hex(token)];
  if (given === null || !timingSafeEqual(enc.encode(givenHash), enc.encode(expectedHash))) {
    throw new Unauthorized("Missing or invalid admin token", "invalid_admin_token");
  }
  return ctx.next();
});
