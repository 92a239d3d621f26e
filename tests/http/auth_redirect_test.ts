import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { signIn } from "../support/auth.ts";
import { createMagicLink } from "../../lib/db/sessions.ts";

const SAME = { "Sec-Fetch-Site": "same-origin" };
const FORM = { ...SAME, "Content-Type": "application/x-www-form-urlencoded" };

// Each would take a browser off the site if it reached a Location header as given.
const EVIL = [
  "/\t/evil.example/x",
  "/\n/evil.example",
  "/\\evil.example",
  "/\\/evil.example",
  "//evil.example",
  "///evil.example",
  "/a/..//evil.example",
  "javascript:alert(1)",
  "https://evil.example/",
];

async function location(res: Response): Promise<string | null> {
  await res.body?.cancel();
  return res.headers.get("Location");
}

async function magicSignIn(server: TestServer, next: string): Promise<string | null> {
  const email = `r${crypto.randomUUID().slice(0, 8)}@example.com`;
  const sent = await fetch(server.url + "/login", {
    method: "POST",
    headers: FORM,
    body: new URLSearchParams({ email, next }),
  });
  await sent.body?.cancel();
  assert.equal(sent.status, 200);
  const link = server.logs.findLast((l) => l.email === email)?.link;
  const token = new URL(String(link)).searchParams.get("token")!;
  return await location(
    await fetch(server.url + "/auth/magic", {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ token }),
      redirect: "manual",
    }),
  );
}

Deno.test("after a magic link, next never leaves the site (tab, newline, backslash, //…)", async () => {
  const server = await startTestServer();
  try {
    for (const next of EVIL) {
      assert.equal(await magicSignIn(server, next), "/playground", JSON.stringify(next));
    }
    assert.equal(await magicSignIn(server, "/usage?days=7#chart"), "/usage?days=7#chart");
    // A link stored before the rule tightened is judged again when it is used.
    const token = await createMagicLink(server.services.kv, {
      email: "old@example.com",
      next: "/\t/evil.example",
    }, server.services.now());
    const used = await fetch(server.url + "/auth/magic", {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ token }),
      redirect: "manual",
    });
    assert.equal(await location(used), "/playground");
  } finally {
    await server.close();
  }
});

Deno.test("signed in: /login?next= and the org switcher only redirect on this site", async () => {
  const server = await startTestServer();
  try {
    const u = await signIn(server);
    for (const next of EVIL) {
      const login = await fetch(`${server.url}/login?next=${encodeURIComponent(next)}`, {
        headers: u.headers,
        redirect: "manual",
      });
      assert.equal(await location(login), "/playground", JSON.stringify(next));
      const sw = await fetch(server.url + "/orgs/switch", {
        method: "POST",
        headers: { ...u.headers, ...FORM },
        body: new URLSearchParams({ org_id: u.orgId, next }),
        redirect: "manual",
      });
      assert.equal(sw.status, 303);
      assert.equal(await location(sw), "/keys", JSON.stringify(next));
    }
    const ok = await fetch(`${server.url}/login?next=${encodeURIComponent("/webhooks?x=1")}`, {
      headers: u.headers,
      redirect: "manual",
    });
    assert.equal(await location(ok), "/webhooks?x=1");
  } finally {
    await server.close();
  }
});
