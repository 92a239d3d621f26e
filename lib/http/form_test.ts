import assert from "node:assert/strict";
import { readForm, readFormObject } from "./form.ts";
import { AppError, PayloadTooLarge } from "../errors.ts";

const URL_ = "http://127.0.0.1/x";

function isFormError(e: unknown): boolean {
  return e instanceof AppError && e.status === 400 && e.code === "invalid_form" &&
    e.message === "Request body must be a form";
}

Deno.test("readForm reads urlencoded and multipart forms", async () => {
  const urlencoded = new Request(URL_, {
    method: "POST",
    body: new URLSearchParams({ name: "Acme", next: "/keys" }),
  });
  assert.deepEqual(await readFormObject(urlencoded), { name: "Acme", next: "/keys" });
  const fd = new FormData();
  fd.set("name", "Acme");
  const multipart = new Request(URL_, { method: "POST", body: fd });
  assert.equal((await readForm(multipart)).get("name"), "Acme");
  const empty = new Request(URL_, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  assert.deepEqual(await readFormObject(empty), {});
});

Deno.test("readForm: a body that is not a form is a 400, not a 500", async () => {
  const bodies: [string, RequestInit][] = [
    ["json", { headers: { "Content-Type": "application/json" }, body: '{"name":"x"}' }],
    ["no body, no type", {}],
    ["text/plain", { headers: { "Content-Type": "text/plain" }, body: "name=x" }],
    ["no type with body", { body: new Blob(["name=x"]) }],
    ["multipart without boundary", {
      headers: { "Content-Type": "multipart/form-data" },
      body: "x",
    }],
  ];
  for (const [label, init] of bodies) {
    await assert.rejects(
      readForm(new Request(URL_, { method: "POST", ...init })),
      isFormError,
      label,
    );
  }
});

Deno.test("readForm lets the body limit's 413 through", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("name="));
      c.error(new PayloadTooLarge(4));
    },
  });
  const req = new Request(URL_, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
  await assert.rejects(readForm(req), (e: AppError) => e.status === 413);
});
