import assert from "node:assert/strict";
import { refusalOf } from "./refusal.ts";
import { formatWhen } from "../lib/format.ts";

const JAN_1_2027 = Date.UTC(2027, 0, 1) / 1000;

Deno.test("refusals read in dollars and words, each with its own remedy", () => {
  const budget = refusalOf({
    code: "budget_exceeded",
    message: "The organization's monthly budget is 22 cents and 21 cents are spent…",
    data: { budget_cents: 22, spent_cents: 21, resets_at: JAN_1_2027 },
  }, "UTC");
  assert.equal(
    budget.message,
    "This run would go over the organization's monthly budget of $0.22 ($0.21 spent). " +
      "It resets Jan 1, 2027.",
  );
  assert.deepEqual(budget.link, { href: "/billing/spend", label: "Spend controls" });

  const key = refusalOf({
    code: "key_limit_exceeded",
    message: "",
    data: { limit_cents: 5, spent_cents: 4, resets_at: null },
  });
  assert.equal(key.message, "This run would go over the key's spend limit of $0.05 ($0.04 spent).");
  assert.equal(key.link?.href, "/keys");

  assert.equal(refusalOf({ code: "insufficient_credits", message: "" }).link?.href, "/billing");
  assert.deepEqual(refusalOf({ code: "invalid_request", message: "Bad prompt" }), {
    message: "Bad prompt",
  });
});

Deno.test("times in words: UTC on the server, a named zone for the viewer", () => {
  const at = Date.UTC(2026, 11, 8, 14, 5, 9);
  assert.equal(formatWhen(at), "Dec 8, 2026, 2:05 PM UTC");
  assert.equal(formatWhen(at, "second"), "Dec 8, 2026, 2:05:09 PM UTC");
  assert.equal(formatWhen(at, "date"), "Dec 8, 2026");
  assert.equal(formatWhen(at, "minute", "Asia/Tokyo"), "Dec 8, 2026, 11:05 PM GMT+9");
  assert.equal(formatWhen(null), "—");
});
