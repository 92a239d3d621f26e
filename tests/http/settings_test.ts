import assert from "node:assert/strict";
import { startTestServer } from "../../lib/testing/server.ts";
import { followSeeOther, signIn } from "../../lib/testing/auth.ts";
import { getOrg } from "../../lib/db/orgs.ts";

Deno.test("settings: owners rename the organization (303 back); others cannot; bad names explained", async () => {
  const server = await startTestServer();
  try {
    const owner = await signIn(server, { orgName: "Old name" });
    const member = await signIn(server, { orgId: owner.orgId, role: "member" });
    const post = (name: string, headers: Record<string, string>) =>
      fetch(server.url + "/settings", {
        method: "POST",
        headers,
        body: new URLSearchParams({ name }),
        redirect: "manual",
      });

    const page = await (await fetch(server.url + "/settings", { headers: member.headers })).text();
    assert.match(page, /data-testid="org-name">Old name</);
    assert.doesNotMatch(page, /Save name/, "members are not offered a rename");
    const denied = await post("Mine now", member.headers);
    await denied.body?.cancel();
    assert.equal(denied.status, 403);

    const bad = await post("   ", owner.headers);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Give the organization a name/);
    assert.equal((await getOrg(server.services.kv, owner.orgId))?.name, "Old name");

    const ok = await post("New name", owner.headers);
    const after = await (await followSeeOther(server, ok, owner.headers)).text();
    assert.match(after, /The organization was renamed/);
    assert.match(after, /data-testid="org-name">New name</);
    assert.equal((await getOrg(server.services.kv, owner.orgId))?.name, "New name");
  } finally {
    await server.close();
  }
});
