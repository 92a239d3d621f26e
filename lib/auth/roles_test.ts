import assert from "node:assert/strict";
import { hasRole, requireRole } from "./roles.ts";
import { AppError } from "../errors.ts";

Deno.test("roles rank member < admin < owner; no role has none", () => {
  assert.ok(hasRole({ role: "owner" }, "admin"));
  assert.ok(hasRole({ role: "admin" }, "admin"));
  assert.ok(!hasRole({ role: "member" }, "admin"));
  assert.ok(!hasRole({}, "member"));
  requireRole({ role: "admin" }, "member");
  assert.throws(() => requireRole({ role: "admin" }, "owner"), (e: AppError) => e.status === 403);
});
