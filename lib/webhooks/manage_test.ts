import assert from "node:assert/strict";
import type { JobQueue } from "../jobs.ts";
import { createOrg } from "../db/orgs.ts";
import { getDelivery, listEndpoints } from "../db/webhooks.ts";
import { OutboundRequestError } from "../net/ssrf.ts";
import { registerEndpoint, sendTestEvent } from "./manage.ts";
import { runDeliveryAttempt, type WebhookDeps } from "./notify.ts";

const noQueue: JobQueue = {
  enqueue: () => Promise.resolve(),
  listen: () => Promise.reject(new Error("not used")),
};

async function deps(
  allowPrivate: boolean,
  dns: Record<string, string[]>,
): Promise<WebhookDeps> {
  return {
    kv: await Deno.openKv(":memory:"),
    jobs: noQueue,
    now: Date.now,
    publicUrl: "http://pv.test",
    secretKey: "k",
    allowPrivate,
    resolve: (host) => Promise.resolve(dns[host] ?? []),
    fetch: () => Promise.reject(new Error("no request may be sent")),
  };
}

Deno.test("production: a host name resolving to a private address is refused, naming the field", async () => {
  const d = await deps(false, {
    "loop.example": ["127.0.0.1"],
    "inside.example": ["93.184.216.34", "10.0.0.7"],
    "meta.example": ["169.254.169.254"],
    "v6.example": ["::1"],
    "ok.example": ["93.184.216.34"],
  });
  try {
    const org = await createOrg(d.kv, { name: "P" });
    for (const host of ["loop.example", "inside.example", "meta.example", "v6.example"]) {
      await assert.rejects(
        registerEndpoint(d, org.id, { url: `https://${host}/hook` }),
        (err: unknown) =>
          err instanceof OutboundRequestError && err.param === "url" && err.reason === "unsafe_url",
        host,
      );
    }
    assert.deepEqual(await listEndpoints(d.kv, org.id), []);
    const ok = await registerEndpoint(d, org.id, {
      url: " https://ok.example/hook ",
      description: "x",
    });
    assert.equal(ok.endpoint.url, "https://ok.example/hook");
    assert.match(ok.secret, /^whsec_/);
  } finally {
    d.kv.close();
  }
});

Deno.test("production: an endpoint whose name later resolves privately is refused at delivery", async () => {
  const dns: Record<string, string[]> = { "rebind.example": ["93.184.216.34"] };
  const d = await deps(false, dns);
  try {
    const org = await createOrg(d.kv, { name: "R" });
    const { endpoint } = await registerEndpoint(d, org.id, { url: "https://rebind.example/h" });
    dns["rebind.example"] = ["10.0.0.5"];
    const delivery = await sendTestEvent(d, org.id, endpoint.id);
    await runDeliveryAttempt(d, delivery.id);
    const after = (await getDelivery(d.kv, org.id, delivery.id))!;
    assert.equal(after.status, "failed");
    assert.match(after.attempts[0].error!, /resolves to 10\.0\.0\.5/);
  } finally {
    d.kv.close();
  }
});
