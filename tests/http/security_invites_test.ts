import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { decodedMail, startSmtp } from "../support/smtp.ts";
import { listUserOrgs } from "../../lib/db/memberships.ts";
import { INVITE_LIMITS } from "../../lib/auth/members.ts";

function post(server: TestServer, path: string, body: Record<string, string>, h = {}) {
  return fetch(server.url + path, {
    method: "POST",
    body: new URLSearchParams(body),
    headers: { "Sec-Fetch-Site": "same-origin", ...h },
    redirect: "manual",
  });
}

Deno.test("invitations: names lose control characters, stay out of the subject, and are limited per user and org", async () => {
  const smtp = await startSmtp();
  const server = await startTestServer({ SMTP_URL: smtp.url, MAIL_FROM: "pv@example.com" });
  try {
    const first = await signIn(server);
    const made = await post(server, "/orgs/new", {
      name: "Acme\r\nBcc: all@example.com\n\u202eFree credits\u0007",
    }, first.headers);
    await made.body?.cancel();
    assert.equal(made.status, 303);
    const orgs = await listUserOrgs(server.services.kv, first.userId);
    const org = orgs.map((o) => o.org).find((o) => o.name.startsWith("Acme"))!;
    assert.equal(org.name, "Acme Bcc: all@example.com Free credits");

    const owner = await signIn(server, { orgId: org.id, role: "owner" });
    const invited = await post(server, "/settings/members", {
      intent: "invite",
      role: "member",
      email: "friend@example.com",
    }, owner.headers);
    await invited.body?.cancel();
    assert.equal(invited.status, 303);
    const raw = await smtp.next();
    const subject = raw.match(/^Subject: (.*)$/m)![1];
    assert.equal(subject, "You are invited to an organization on Pipevideo");
    // No header made of the name (the body may wrap a line at "Bcc:": that is text).
    assert.doesNotMatch(raw.split("\r\n\r\n")[0], /^Bcc:/m);

    // Per user: the owner's next invitations up to the limit, then 429.
    for (let i = 1; i < INVITE_LIMITS.perUser.limit; i++) {
      const r = await post(
        server,
        "/settings/members",
        { intent: "invite", role: "member" },
        owner.headers,
      );
      await r.body?.cancel();
      assert.equal(r.status, 303, `invite ${i}`);
    }
    const over = await post(
      server,
      "/settings/members",
      { intent: "invite", role: "member" },
      owner.headers,
    );
    await over.body?.cancel();
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get("Retry-After")) > 0);

    // Per org: a second owner draws on the same organization's budget.
    const second = await signIn(server, { orgId: org.id, role: "owner" });
    const left = INVITE_LIMITS.perOrg.limit - INVITE_LIMITS.perUser.limit;
    for (let i = 0; i < left; i++) {
      const r = await post(
        server,
        "/settings/members",
        { intent: "invite", role: "member" },
        second.headers,
      );
      await r.body?.cancel();
      assert.equal(r.status, 303, `second owner's invite ${i}`);
    }
    const orgOver = await post(
      server,
      "/settings/members",
      { intent: "invite", role: "member" },
      second.headers,
    );
    await orgOver.body?.cancel();
    assert.equal(orgOver.status, 429);
  } finally {
    await server.close();
    await smtp.close();
  }
});

Deno.test("invitation mails quote an org name that holds a URL as plain text, never a link", async () => {
  const smtp = await startSmtp();
  const server = await startTestServer({ SMTP_URL: smtp.url, MAIL_FROM: "pv@example.com" });
  try {
    const owner = await signIn(server, { orgName: "Verify at https://evil.example/login now" });
    const invited = await post(server, "/settings/members", {
      intent: "invite",
      role: "member",
      email: "friend@example.com",
    }, owner.headers);
    await invited.body?.cancel();
    assert.equal(invited.status, 303);
    const raw = await smtp.next();
    assert.equal(
      raw.match(/^Subject: (.*)$/m)![1],
      "You are invited to an organization on Pipevideo",
    );
    const mail = decodedMail(raw);
    assert.ok(mail.includes("Verify at"), "the org name is in the body");
    assert.doesNotMatch(mail, /https?:\/\/evil|evil\.example/);
    const links = [...mail.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(links.length, 1);
    assert.match(links[0], /\/invites\/[0-9a-f]+$/);
  } finally {
    await server.close();
    await smtp.close();
  }
});
