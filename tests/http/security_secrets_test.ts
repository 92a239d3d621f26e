import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { call, fundedOrg } from "../support/api.ts";
import { webhookDeps } from "../../lib/webhooks/notify.ts";
import { registerEndpoint, rotateSecret } from "../../lib/webhooks/manage.ts";
import {
  createEndpoint,
  getEndpointRecord,
  listEndpoints,
  resealWebhookSecrets,
  signingSecrets,
} from "../../lib/db/webhooks.ts";
import { secretBox } from "../../lib/secret_box.ts";
import { kvDump } from "../support/kv.ts";
import { getPage, postForm, shownSecret } from "../support/webhook_receiver.ts";

Deno.test("a KV dump holds no token or signing secret in clear", async () => {
  const server = await startTestServer({ GITHUB_CLIENT_ID: "cid", GITHUB_CLIENT_SECRET: "cs" });
  try {
    const owner = await signIn(server);
    const session = owner.cookie.split("=")[1];
    const made = await fetch(server.url + "/settings/members", {
      method: "POST",
      headers: owner.headers,
      body: new URLSearchParams({ intent: "invite", role: "member" }),
    });
    const inviteLink = (await made.text()).match(/data-testid="invite-link">([^<]+)</)![1];
    const invitePath = new URL(inviteLink).pathname;
    const inviteToken = invitePath.split("/").pop()!;

    // A sign-in link and an OAuth start that return to the invitation afterwards.
    const login = await fetch(server.url + "/login", {
      method: "POST",
      headers: { "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ email: "friend@example.com", next: invitePath }),
    });
    await login.body?.cancel();
    const magic = String(server.logs.find((l) => l.email === "friend@example.com")!.link);
    const magicToken = new URL(magic).searchParams.get("token")!;
    const oauth = await fetch(`${server.url}/auth/github?next=${invitePath}`, {
      redirect: "manual",
    });
    await oauth.body?.cancel();
    const state = new URL(oauth.headers.get("location")!).searchParams.get("state")!;

    // Webhook secrets: an endpoint's, its rotated one, the org default for webhook_url.
    const deps = webhookDeps(server.services);
    const first = await registerEndpoint(deps, owner.orgId, { url: "http://127.0.0.1:9/hook" });
    const rotated = await rotateSecret(deps, owner.orgId, first.endpoint.id);
    const { key } = await fundedOrg(server.services, 0);
    const def = await call(server.url, "GET", "/v1/webhooks/secret", { key });
    assert.equal(def.status, 200);

    const dump = (await kvDump(server.services.kv)).join("\n");
    const secrets = {
      session,
      inviteToken,
      magicToken,
      state,
      apiKey: key,
      endpointSecret: first.secret,
      rotatedSecret: rotated.secret,
      defaultSecret: def.body.secret,
    };
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value.length >= 20, name);
      // The whole value, and its random part without a prefix such as whsec_ or pv_.
      assert.ok(!dump.includes(value), `${name} is in the KV dump`);
      assert.ok(!dump.includes(value.replace(/^[a-z]+_/, "")), `${name} (body) is in the dump`);
    }

    // Signing still uses the real secrets, and the invitation still follows sign-in.
    const record = await getEndpointRecord(server.services.kv, owner.orgId, first.endpoint.id);
    assert.deepEqual(
      await signingSecrets(record!, server.services.now(), deps.box),
      [rotated.secret, first.secret],
    );
    const done = await fetch(server.url + "/auth/magic", {
      method: "POST",
      headers: { "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ token: magicToken }),
      redirect: "manual",
    });
    await done.body?.cancel();
    assert.equal(done.headers.get("location"), invitePath);
  } finally {
    await server.close();
  }
});

Deno.test("one-time reveals in flight (key, webhook, rotation, invitation) leave no usable secret in KV", async () => {
  const server = await startTestServer();
  try {
    const owner = await signIn(server);
    const kv = server.services.kv;
    // Each POST answers 303 to a page that reveals the secret once; until it is followed, the
    // reveal waits in KV. Read the whole KV then, as a backup or a replica would hold it.
    const key = await postForm(server, "/keys", { name: "ci" }, owner.headers);
    const hook = await postForm(
      server,
      "/webhooks",
      { url: "http://127.0.0.1:9/h" },
      owner.headers,
    );
    const [endpoint] = await listEndpoints(kv, owner.orgId);
    const rotate = await postForm(
      server,
      `/webhooks/${endpoint.id}`,
      { action: "rotate" },
      owner.headers,
    );
    const invite = await postForm(
      server,
      "/settings/members",
      { intent: "invite", role: "member" },
      owner.headers,
    );
    for (const r of [key, hook, rotate, invite]) assert.equal(r.status, 303, r.html);
    const dump = (await kvDump(kv)).join("\n");
    assert.ok(dump.includes('"flash"'), "the reveals are in KV");
    assert.doesNotMatch(dump, /pv_[A-Za-z0-9_-]{20}|whsec_|\/invites\/[0-9a-f]{20}/);

    const secrets = {
      apiKey: /Bearer (pv_[A-Za-z0-9_-]+)/.exec(
        (await getPage(server, key.location!, owner.headers)).html,
      )?.[1],
      endpointSecret: shownSecret((await getPage(server, hook.location!, owner.headers)).html),
      rotatedSecret: shownSecret((await getPage(server, rotate.location!, owner.headers)).html),
      inviteToken: /data-testid="invite-link">[^<]+\/invites\/([^<]+)</.exec(
        (await getPage(server, invite.location!, owner.headers)).html,
      )?.[1],
    };
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value && value.length >= 20, `${name} is shown on the page`);
      assert.ok(!dump.includes(value.replace(/^[a-z]+_/, "")), `${name} is in the KV dump`);
    }
    // Shown, so gone: a reload shows nothing, and no reveal is left in KV.
    assert.equal(shownSecret((await getPage(server, hook.location!, owner.headers)).html), null);
    assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ["flash"] })), []);
  } finally {
    await server.close();
  }
});

Deno.test("secrets stored in clear keep working and are sealed by reseal; a new SECRET_KEY opens the old seal", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    // An endpoint from before sealing: its secret in clear.
    const legacy = await createEndpoint(kv, "org_1", { url: "http://127.0.0.1:9/" }, 1);
    const oldBox = secretBox("old-secret-key-0123456789abcdef0123456789");
    let r = (await getEndpointRecord(kv, "org_1", legacy.endpoint.id))!;
    assert.equal(r.secret, legacy.secret);
    assert.deepEqual(await signingSecrets(r, 2, oldBox), [legacy.secret]);

    assert.equal(await resealWebhookSecrets(kv, oldBox), 1);
    assert.equal(await resealWebhookSecrets(kv, oldBox), 0); // idempotent
    r = (await getEndpointRecord(kv, "org_1", legacy.endpoint.id))!;
    assert.ok(!JSON.stringify(r).includes(legacy.secret.slice(6)));
    assert.deepEqual(await signingSecrets(r, 2, oldBox), [legacy.secret]);

    // Rotation of SECRET_KEY: the new key with the old one as previous opens, reseal moves it.
    const newBox = secretBox("new-secret-key-0123456789abcdef0123456789", [
      "old-secret-key-0123456789abcdef0123456789",
    ]);
    assert.deepEqual(await signingSecrets(r, 2, newBox), [legacy.secret]);
    assert.equal(await resealWebhookSecrets(kv, newBox), 1);
    r = (await getEndpointRecord(kv, "org_1", legacy.endpoint.id))!;
    const newOnly = secretBox("new-secret-key-0123456789abcdef0123456789");
    assert.deepEqual(await signingSecrets(r, 2, newOnly), [legacy.secret]);
    await assert.rejects(() => signingSecrets(r, 2, oldBox), /SECRET_KEY_PREVIOUS/);
  } finally {
    kv.close();
  }
});
