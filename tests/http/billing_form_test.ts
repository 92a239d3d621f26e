import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { getBalance, listLedger } from "../../lib/db/ledger.ts";
import { stripeTestEnv } from "../support/stripe.ts";

/** Bodies that are not forms: each must be a 400 that changes nothing, never a 500. */
const NOT_FORMS: { name: string; init: RequestInit }[] = [
  {
    name: "JSON",
    init: { body: '{"amount_cents":"2500"}', headers: { "Content-Type": "application/json" } },
  },
  { name: "no body", init: {} },
  { name: "text", init: { body: "amount_cents=2500", headers: { "Content-Type": "text/plain" } } },
];

async function postNotForm(
  server: TestServer,
  path: string,
  headers: Record<string, string>,
  init: RequestInit,
  accept: string,
) {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    redirect: "manual",
    ...init,
    headers: { ...headers, Accept: accept, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  return { status: res.status, text };
}

async function assertRefused(server: TestServer, path: string, headers: Record<string, string>) {
  for (const { name, init } of NOT_FORMS) {
    const html = await postNotForm(server, path, headers, init, "text/html");
    assert.equal(html.status, 400, `${path} with ${name}: ${html.text.slice(0, 200)}`);
    const json = await postNotForm(server, path, headers, init, "application/json");
    assert.equal(json.status, 400, `${path} with ${name} (JSON)`);
    const body = JSON.parse(json.text);
    assert.equal(body.error.code, "invalid_form", `${path} with ${name}`);
    assert.match(body.message, /form/);
  }
}

Deno.test("POST /billing with a body that is not a form is 400 and never reaches Stripe", async () => {
  let stripeCalls = 0;
  const stripe = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    stripeCalls++;
    await req.body?.cancel();
    return Response.json({ error: { type: "api_error" } }, { status: 500 });
  });
  const server = await startTestServer(stripeTestEnv(stripe.addr.port));
  try {
    const user = await signIn(server);
    await assertRefused(server, "/billing", user.headers);
    assert.equal(stripeCalls, 0);
  } finally {
    await server.close();
    await stripe.shutdown();
  }
});

Deno.test("POST /billing/dev-credits with a body that is not a form is 400 and credits nothing", async () => {
  const server = await startTestServer();
  try {
    const user = await signIn(server);
    await assertRefused(server, "/billing/dev-credits", user.headers);
    assert.equal(await getBalance(server.services.kv, user.orgId), 0);
    assert.equal((await listLedger(server.services.kv, user.orgId)).data.length, 0);
  } finally {
    await server.close();
  }
});
