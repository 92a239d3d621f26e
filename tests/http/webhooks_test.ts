import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { createApiKey } from "../../lib/db/apikeys.ts";
import { creditOrg } from "../../lib/db/ledger.ts";
import { createOrg } from "../../lib/db/orgs.ts";
import {
  createEndpoint,
  getDelivery,
  listDeliveries,
  listEndpoints,
  type WebhookDelivery,
} from "../../lib/db/webhooks.ts";
import { isTerminal, loadGeneration } from "../../lib/db/generations.ts";
import { createGeneration } from "../../lib/generations/service.ts";
import { failPlan, updateGeneration } from "../../lib/generations/transitions.ts";
import { parseGenerationBody } from "../../lib/generations/schema.ts";
import { startBackground } from "../../lib/background.ts";
import { sweepDueDeliveries, webhookDeps } from "../../lib/webhooks/notify.ts";
import { verifyWebhook } from "../../lib/webhooks/sign.ts";
import {
  eventually,
  getPage,
  postForm,
  shownSecret,
  startReceiver,
} from "../support/webhook_receiver.ts";

const nowSec = () => Math.floor(Date.now() / 1000);

async function apiKeyFor(kv: Deno.Kv, orgId: string, cents = 0) {
  if (cents > 0) await creditOrg(kv, orgId, cents, { kind: "topup", reason: "test" });
  return (await createApiKey(kv, orgId, { name: "webhooks test" })).key;
}

async function getSecret(url: string, key?: string) {
  const res = await fetch(`${url}/v1/webhooks/secret`, {
    headers: key ? { Authorization: `Bearer ${key}` } : {},
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("GET /v1/webhooks/secret: the key's org default secret, stable, per org, behind the key", async () => {
  const server = await startTestServer();
  try {
    const kv = server.services.kv;
    const a = await createOrg(kv, { name: "A" });
    const b = await createOrg(kv, { name: "B" });
    const keyA = await apiKeyFor(kv, a.id);
    const keyB = await apiKeyFor(kv, b.id);
    const first = await getSecret(server.url, keyA);
    assert.equal(first.status, 200);
    assert.match(first.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual((await getSecret(server.url, keyA)).body, first.body);
    const other = await getSecret(server.url, keyB);
    assert.notEqual(other.body.secret, first.body.secret);
    assert.equal((await getSecret(server.url)).status, 401);
  } finally {
    await server.close();
  }
});

Deno.test("a local-model generation sends exactly one signed event to the endpoint and to webhook_url", async () => {
  const rx = startReceiver();
  const server = await startTestServer({}, {}, { background: true });
  try {
    const kv = server.services.kv;
    const admin = await signIn(server, { orgName: "Hooks" });
    const key = await apiKeyFor(kv, admin.orgId, 1000);

    const added = await postForm(server, "/webhooks", {
      url: `${rx.base}/endpoint`,
      description: "main",
    }, admin.headers);
    assert.equal(added.status, 303, added.html);
    const shown = await getPage(server, added.location!, admin.headers);
    const endpointSecret = shownSecret(shown.html);
    assert.ok(endpointSecret, "the new endpoint's secret is shown");
    // Shown once: the same page again (a reload) does not show it.
    const list = await getPage(server, added.location!, admin.headers);
    assert.equal(list.status, 200);
    assert.equal(shownSecret(list.html), null);
    assert.ok(list.html.includes(`${rx.base}/endpoint`));

    const created = await fetch(`${server.url}/v1/video/generations`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        model: "local/preview",
        prompt: "a lighthouse at dusk",
        duration: 1,
        resolution: "360p",
        webhook_url: `${rx.base}/per-request`,
      }),
    });
    assert.equal(created.status, 200);
    const { id } = await created.json();

    const [toEndpoint] = await rx.waitFor(1, 30_000, "/endpoint");
    const [perRequest] = await rx.waitFor(1, 30_000, "/per-request");
    const event = JSON.parse(toEndpoint.body);
    assert.equal(event.eventType, "video.generation.completed");
    assert.equal(event.generationId, id);
    assert.equal(event.status, "completed");
    assert.equal(event.data.status, "completed");
    assert.ok(event.outputUrl.startsWith(server.services.config.publicUrl));
    assert.equal(perRequest.body, toEndpoint.body);
    assert.notEqual(perRequest.headers.get("webhook-id"), toEndpoint.headers.get("webhook-id"));

    assert.ok(await verifyWebhook(endpointSecret, toEndpoint.headers, toEndpoint.body, nowSec()));
    const { body: { secret: defaultSecret } } = await getSecret(server.url, key);
    assert.ok(await verifyWebhook(defaultSecret, perRequest.headers, perRequest.body, nowSec()));
    assert.equal(
      await verifyWebhook(endpointSecret, perRequest.headers, perRequest.body, nowSec()),
      false,
    );

    // The video is downloadable at the URL the event carries (PUBLIC_URL is not the test port).
    const signed = new URL(event.outputUrl);
    const video = await fetch(server.url + signed.pathname + signed.search);
    assert.equal(video.status, 200);
    await video.body?.cancel();

    // Exactly one event each: both deliveries succeeded with one attempt, and a sweep adds none.
    const deliveries = await eventually(async () => {
      const all = (await listDeliveries(kv, admin.orgId)).data;
      return all.length === 2 && all.every((d) => d.status === "succeeded") ? all : undefined;
    }, "both deliveries succeeded");
    assert.deepEqual(deliveries.map((d) => d.attempt_count), [1, 1]);
    assert.deepEqual(
      await sweepDueDeliveries(webhookDeps(server.services), Date.now() + 60_000),
      [],
    );
    assert.equal(rx.received.length, 2);

    // The dashboard lists the delivery with its attempt and payload.
    const endpointId = deliveries.find((d) => d.endpoint_id)!.endpoint_id!;
    const detail = await getPage(server, `/webhooks/${endpointId}`, admin.headers);
    assert.equal(detail.status, 200);
    assert.ok(detail.html.includes("video.generation.completed"));
    assert.ok(detail.html.includes(">200<"), "the attempt's status code is listed");
    assert.ok(detail.html.includes(id), "the payload is shown");
  } finally {
    await server.close();
    await rx.close();
  }
});

Deno.test("a failed generation also sends its event (through the real queue)", async () => {
  const rx = startReceiver();
  // No background yet: the generation is failed before any worker can submit it.
  const server = await startTestServer();
  let background: Promise<void> | null = null;
  try {
    const { kv, generation } = server.services;
    const org = await createOrg(kv, { name: "F" });
    await creditOrg(kv, org.id, 100, { kind: "topup", reason: "test" });
    const ep = await createEndpoint(kv, org.id, { url: `${rx.base}/f` }, Date.now());
    const { id } = await createGeneration(
      generation,
      org.id,
      parseGenerationBody({ model: "local/preview", prompt: "p", duration: 1, resolution: "360p" }),
    );
    const failed = await updateGeneration(generation, id, failPlan("provider said no", Date.now()));
    assert.equal(failed.committed?.status, "failed");
    background = startBackground(server.services, { cron: false });

    const [got] = await rx.waitFor(1);
    const event = JSON.parse(got.body);
    assert.equal(event.generationId, id);
    assert.equal(event.status, "failed");
    assert.equal(event.errorMessage, "provider said no");
    assert.equal(event.outputUrl, null);
    assert.ok(await verifyWebhook(ep.secret, got.headers, got.body, nowSec()));
    const g = (await loadGeneration(kv, id))!.value;
    assert.ok(isTerminal(g));
  } finally {
    await server.close();
    await background;
    await rx.close();
  }
});

Deno.test("dashboard: rotation keeps both signatures valid in the overlap; disable, enable, delete, resend", async () => {
  const rx = startReceiver([500, 200]);
  const server = await startTestServer({}, {}, { background: true });
  try {
    const kv = server.services.kv;
    const admin = await signIn(server);
    const added = await postForm(server, "/webhooks", { url: `${rx.base}/r` }, admin.headers);
    const oldSecret = shownSecret((await getPage(server, added.location!, admin.headers)).html)!;
    const [endpoint] = await listEndpoints(kv, admin.orgId);
    const page = `/webhooks/${endpoint.id}`;

    const rotated = await postForm(server, page, { action: "rotate" }, admin.headers);
    assert.equal(rotated.status, 303);
    const newSecret = shownSecret((await getPage(server, rotated.location!, admin.headers)).html)!;
    assert.ok(newSecret && newSecret !== oldSecret);

    // The test event fails once (500); it is then resent by hand from the dashboard.
    const test = await postForm(server, page, { action: "test" }, admin.headers);
    assert.equal(test.status, 303);
    assert.equal(test.location, `${page}?done=test`);
    const [first] = await rx.waitFor(1);
    assert.equal(first.headers.get("webhook-signature")!.split(" ").length, 2);
    assert.ok(await verifyWebhook(newSecret, first.headers, first.body, nowSec()));
    assert.ok(await verifyWebhook(oldSecret, first.headers, first.body, nowSec()));
    assert.equal(JSON.parse(first.body).eventType, "webhook.test");

    const failedOnce: WebhookDelivery = await eventually(async () => {
      const [d] = (await listDeliveries(kv, admin.orgId)).data;
      return d?.attempt_count === 1 ? d : undefined;
    }, "the first attempt recorded");
    assert.equal(failedOnce.status, "pending", "a 500 is retried with backoff");
    assert.equal(failedOnce.attempts[0].status_code, 500);
    // Resend is for finished deliveries: a pending one is a 409 and changes nothing.
    const early = await postForm(server, "/webhooks/resend", {
      delivery_id: failedOnce.id,
    }, admin.headers);
    assert.equal(early.status, 409);

    // Disabled: a test event is refused; enabled again it goes.
    const disabled = await postForm(server, page, { action: "disable" }, admin.headers);
    assert.equal(disabled.status, 303);
    assert.equal((await listEndpoints(kv, admin.orgId))[0].enabled, false);
    assert.equal((await postForm(server, page, { action: "test" }, admin.headers)).status, 409);
    await postForm(server, page, { action: "enable" }, admin.headers);
    assert.equal((await listEndpoints(kv, admin.orgId))[0].enabled, true);

    const removed = await postForm(server, page, { action: "delete" }, admin.headers);
    assert.equal(removed.status, 303);
    assert.equal(removed.location, "/webhooks");
    assert.deepEqual(await listEndpoints(kv, admin.orgId), []);
    assert.equal((await getPage(server, page, admin.headers)).status, 404);
    const stale = await getDelivery(kv, admin.orgId, failedOnce.id);
    assert.ok(stale, "past deliveries stay listed");
  } finally {
    await server.close();
    await rx.close();
  }
});

Deno.test("dashboard: members may view but not manage; bad URLs get a field error and change nothing", async () => {
  const server = await startTestServer();
  try {
    const kv = server.services.kv;
    const admin = await signIn(server);
    const member = await signIn(server, { orgId: admin.orgId, role: "member" });
    const viewed = await getPage(server, "/webhooks", member.headers);
    assert.equal(viewed.status, 200);
    assert.ok(!viewed.html.includes('name="url"'), "no add form for members");
    const refused = await postForm(server, "/webhooks", {
      url: "https://example.com/h",
    }, member.headers);
    assert.equal(refused.status, 403);

    for (
      const url of ["", "ftp://example.com/x", "not a url", `https://x.test/${"a".repeat(2100)}`]
    ) {
      const r = await postForm(server, "/webhooks", { url }, admin.headers);
      assert.equal(r.status, 400, url);
      assert.ok(r.html.includes('class="field-error"'), url);
      assert.ok(r.html.includes('aria-invalid="true"'), url);
    }
    // An unknown typed event is refused too.
    const badEvent = await postForm(server, "/webhooks", {
      url: "https://example.com/h",
      events: "video.done",
    }, admin.headers);
    assert.equal(badEvent.status, 400);
    assert.deepEqual(await listEndpoints(kv, admin.orgId), []);

    // The form's event choice is stored with the endpoint (typed events, opt-in).
    const form = await getPage(server, "/webhooks", admin.headers);
    assert.ok(form.html.includes('value="video.generation.failed"'), "the choice is offered");
    const typed = await postForm(server, "/webhooks", {
      url: "https://example.com/h",
      events: "video.generation.failed",
    }, admin.headers);
    assert.equal(typed.status, 303);
    const [endpoint] = await listEndpoints(kv, admin.orgId);
    assert.deepEqual(endpoint.events, ["video.generation.failed"]);
  } finally {
    await server.close();
  }
});

Deno.test("production: private targets are refused at registration and at delivery", async () => {
  const rx = startReceiver();
  const server = await startTestServer(
    { APP_ENV: "production", SECRET_KEY: "prod-secret-0123456789abcdef0123456789abcdef" },
    {},
    { background: true },
  );
  try {
    const kv = server.services.kv;
    const admin = await signIn(server);
    for (
      const url of [
        `${rx.base}/x`,
        "http://localhost:8080/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/x",
        "http://[::ffff:127.0.0.1]/x",
      ]
    ) {
      const r = await postForm(server, "/webhooks", { url }, admin.headers);
      assert.equal(r.status, 400, url);
      assert.match(r.html, /class="field-error"[^>]*>URL host [^<]* is not allowed/, url);
    }
    assert.deepEqual(await listEndpoints(kv, admin.orgId), []);

    // An endpoint stored before (e.g. registered in development) is refused when sending.
    const ep = await createEndpoint(kv, admin.orgId, { url: `${rx.base}/old` }, Date.now());
    const sent = await postForm(server, `/webhooks/${ep.endpoint.id}`, {
      action: "test",
    }, admin.headers);
    assert.equal(sent.status, 303);
    const d = await eventually(async () => {
      const [x] = (await listDeliveries(kv, admin.orgId)).data;
      return x?.status === "failed" ? x : undefined;
    }, "the delivery refused");
    assert.equal(d.attempts.length, 1, "a refused URL is not retried");
    assert.equal(d.attempts[0].status_code, null);
    assert.match(d.attempts[0].error!, /not allowed/);
    assert.equal(rx.received.length, 0);

    // A failed delivery can be resent: it is attempted again (and refused again here).
    const resent = await postForm(server, "/webhooks/resend", { delivery_id: d.id }, admin.headers);
    assert.equal(resent.status, 303);
    assert.equal(resent.location, `/webhooks/${ep.endpoint.id}#${d.id}`);
    const again = await eventually(async () => {
      const x = await getDelivery(kv, admin.orgId, d.id);
      return x?.status === "failed" && x.attempts.length === 2 ? x : undefined;
    }, "the resent delivery attempted");
    assert.equal(again.msg_id, d.msg_id, "same webhook-id on a resend");
    assert.equal(rx.received.length, 0);
  } finally {
    await server.close();
    await rx.close();
  }
});
