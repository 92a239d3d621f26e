import assert from "node:assert/strict";
import { startTestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { createApiKey, listApiKeys } from "../../lib/db/apikeys.ts";
import {
  createInvite,
  getMembership,
  listInvites,
  listUserOrgs,
} from "../../lib/db/memberships.ts";
import { createMagicLink, peekMagicLink } from "../../lib/db/sessions.ts";
import { createEndpoint, getEndpoint, listEndpoints } from "../../lib/db/webhooks.ts";

// Bodies a form POST can meet that are not a form: each must be a 400 that changes nothing.
const NOT_FORMS: [string, RequestInit][] = [
  ["JSON body", { headers: { "Content-Type": "application/json" }, body: '{"name":"x"}' }],
  ["no body", {}],
  ["text/plain", { headers: { "Content-Type": "text/plain" }, body: "name=x&token=y" }],
  ["multipart without boundary", {
    headers: { "Content-Type": "multipart/form-data" },
    body: "name=x",
  }],
];

Deno.test("every dashboard form POST answers 400, not 500, to a body that is not a form", async () => {
  const server = await startTestServer();
  try {
    const { kv } = server.services;
    const owner = await signIn(server, { orgName: "Acme" });
    const invitee = await signIn(server);
    const key = await createApiKey(kv, owner.orgId, { name: "prod" });
    const { token: invite } = await createInvite(kv, {
      orgId: owner.orgId,
      role: "member",
      invitedBy: owner.userId,
    });
    const magic = await createMagicLink(kv, { email: "m@example.com", next: "/keys" });
    const { endpoint } = await createEndpoint(
      kv,
      owner.orgId,
      { url: "https://hooks.example/x" },
      server.services.now(),
    );
    const keysBefore = await listApiKeys(kv, owner.orgId);

    const targets: [string, Record<string, string>][] = [
      ["/login", {}],
      ["/auth/magic", {}],
      ["/orgs/new", owner.headers],
      ["/orgs/switch", owner.headers],
      ["/keys", owner.headers],
      [`/keys/${key.id}/revoke`, owner.headers],
      ["/settings/members", owner.headers],
      [`/invites/${invite}`, invitee.headers],
      ["/webhooks", owner.headers],
      [`/webhooks/${endpoint.id}`, owner.headers],
      ["/webhooks/resend", owner.headers],
    ];
    for (const [path, headers] of targets) {
      for (const [label, init] of NOT_FORMS) {
        const res = await fetch(server.url + path, {
          method: "POST",
          redirect: "manual",
          ...init,
          headers: {
            "Sec-Fetch-Site": "same-origin",
            ...headers,
            ...init.headers as Record<string, string>,
          },
        });
        const text = await res.text();
        assert.equal(res.status, 400, `${path} with ${label}: ${res.status} ${text.slice(0, 200)}`);
        assert.match(text, /Request body must be a form/, `${path} with ${label}`);
      }
      // A program asking for JSON gets API.md's error shape.
      const res = await fetch(server.url + path, {
        method: "POST",
        headers: {
          "Sec-Fetch-Site": "same-origin",
          ...headers,
          Accept: "application/json",
          "Content-Type": "application/json",
        },
        body: "{}",
      });
      assert.equal(res.status, 400, path);
      assert.deepEqual((await res.json()).error, {
        type: "invalid_request_error",
        code: "invalid_form",
        param: null,
      }, path);
    }

    // Nothing changed.
    assert.ok(!server.logs.some((l) => typeof l.link === "string"), "no sign-in link was made");
    assert.ok(await peekMagicLink(kv, magic, server.services.now()), "magic link still unused");
    assert.equal((await listUserOrgs(kv, owner.userId)).length, 1);
    assert.deepEqual(await listApiKeys(kv, owner.orgId), keysBefore);
    assert.equal((await listInvites(kv, owner.orgId)).length, 1);
    assert.equal(await getMembership(kv, owner.orgId, invitee.userId), null);
    assert.equal((await listEndpoints(kv, owner.orgId)).length, 1);
    assert.equal((await getEndpoint(kv, owner.orgId, endpoint.id))?.enabled, true);
    assert.equal(server.logs.filter((l) => l.level === "error").length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("a real form still works on the same routes (urlencoded and multipart)", async () => {
  const server = await startTestServer();
  try {
    const owner = await signIn(server, { orgName: "Acme" });
    const fd = new FormData();
    fd.set("name", "multipart key");
    const made = await fetch(server.url + "/keys", {
      method: "POST",
      headers: owner.headers,
      body: fd,
      redirect: "manual",
    });
    assert.equal(made.status, 303);
    await made.body?.cancel();
    const key = (await listApiKeys(server.services.kv, owner.orgId))[0];
    assert.equal(key.name, "multipart key");
    const revoked = await fetch(server.url + `/keys/${key.id}/revoke`, {
      method: "POST",
      headers: owner.headers,
      body: new URLSearchParams(),
      redirect: "manual",
    });
    await revoked.body?.cancel();
    assert.equal(revoked.status, 303);
    assert.notEqual((await listApiKeys(server.services.kv, owner.orgId))[0].revoked_at, null);
  } finally {
    await server.close();
  }
});
