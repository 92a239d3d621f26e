import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  CallToolResult,
  ContentBlock,
  Progress,
  Resource,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { startTestServer, type TestServer } from "../support/server.ts";
import { localProvider } from "../../lib/providers/local.ts";
import type { ProviderAdapter } from "../../lib/providers/types.ts";
import { revokeApiKey } from "../../lib/db/apikeys.ts";
import { verifyLedger } from "../../lib/db/ledger.ts";
import { mcpClientSnippets } from "../../lib/mcp/docs.ts";
import { allLedger, call, fundedOrg, waitFor } from "../support/api.ts";

/** The SDK's own client over real HTTP, authenticated with an API key like any MCP host. */
async function connect(server: TestServer, key: string): Promise<Client> {
  const client = new Client({ name: "pipevideo-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  onprogress?: (p: Progress) => void,
): Promise<CallToolResult> {
  return await client.callTool({ name, arguments: args }, undefined, {
    onprogress,
  }) as CallToolResult;
}

const textOf = (r: CallToolResult) =>
  r.content.flatMap((c: ContentBlock) => c.type === "text" ? [c.text] : []).join("\n");

// deno-lint-ignore no-explicit-any
const structured = (r: CallToolResult) => r.structuredContent as any;

/** The local model, except that a prompt starting with "slow" stays running until released. */
function slowStandIn() {
  const slowJobs = new Set<string>();
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  let isReleased = false;
  released.then(() => isReleased = true);
  const adapter: ProviderAdapter = {
    ...localProvider,
    async submit(model, req, deps) {
      const job = await localProvider.submit(model, req, deps);
      if (req.prompt.startsWith("slow")) slowJobs.add(job.jobId);
      return job;
    },
    poll(jobId, deps) {
      if (slowJobs.has(jobId) && !isReleased) return Promise.resolve({ status: "running" });
      return localProvider.poll(jobId, deps);
    },
  };
  return { adapter, release };
}

/** A signed output URL rebased on the test server (PUBLIC_URL is not the random port). */
const onServer = (server: TestServer, url: string) => {
  const u = new URL(url);
  return server.url + u.pathname + u.search;
};

Deno.test("initialize and list tools: the client's names, with input and output schemas", async () => {
  const server = await startTestServer();
  const { key } = await fundedOrg(server.services, 100);
  const client = await connect(server, key);
  try {
    assert.equal(client.getServerVersion()?.name, "pipevideo");
    assert.ok(client.getServerCapabilities()?.tools);
    assert.ok(client.getServerCapabilities()?.resources);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t: Tool) => t.name).sort(), [
      "cancel_generation",
      "generate_video",
      "get_generation",
      "get_model",
      "get_usage",
      "list_generations",
      "list_models",
    ]);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", t.name);
      assert.equal(t.outputSchema?.type, "object", t.name);
      assert.ok(t.description, t.name);
    }
    const gen = tools.find((t: Tool) => t.name === "generate_video")!;
    assert.deepEqual(Object.keys(gen.inputSchema.properties ?? {}).sort(), [
      "aspect_ratio",
      "duration",
      "image_url",
      "model",
      "prompt",
      "provider",
      "resolution",
    ]);
    assert.deepEqual([...gen.inputSchema.required ?? []].sort(), ["model", "prompt"]);
    // Generated from the REST body schema: its limits come along.
    // deno-lint-ignore no-explicit-any
    const props = gen.inputSchema.properties as any;
    assert.equal(props.prompt.maxLength, 4000);
    assert.deepEqual(
      Object.keys(gen.outputSchema!.properties ?? {}).sort(),
      [
        "completed_at",
        "cost_cents",
        "created_at",
        "error",
        "error_message",
        "id",
        "latency_ms",
        "metadata",
        "model",
        "output_expired",
        "output_url",
        "status",
        // Additive (issue 23), as /v1 answers.
        "aspect_ratio",
        "duration",
        "progress",
        "queue_position",
        "resolution",
        "routing",
        "urls",
      ].sort(),
    );
    const usage = tools.find((t: Tool) => t.name === "get_usage")!;
    assert.ok("credit_balance" in (usage.outputSchema!.properties ?? {}));
    const list = tools.find((t: Tool) => t.name === "list_generations")!;
    assert.deepEqual(
      Object.keys(list.inputSchema.properties ?? {}).sort(),
      ["cursor", "limit", "model", "status"],
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test({
  name: "each tool's happy path on the local model; the video completes inside generate_video",
  async fn() {
    const server = await startTestServer({ MCP_WAIT_SECONDS: "60" }, {}, { background: true });
    const { orgId, key } = await fundedOrg(server.services, 500);
    const client = await connect(server, key);
    try {
      const models = await callTool(client, "list_models");
      assert.equal(models.isError, undefined);
      assert.match(textOf(models), /Local Preview \(local\/preview\)/);
      assert.match(textOf(models), /maker: Pipevideo, family: Local; routes: local/);
      const v1Models = await call(server.url, "GET", "/v1/models", { key });
      assert.deepEqual(structured(models), v1Models.body);

      const model = await callTool(client, "get_model", { slug: "local/preview" });
      assert.match(textOf(model), /Maker: Pipevideo · Family: Local/);
      assert.match(textOf(model), /Routes: .*\(local\)/);
      assert.match(textOf(model), /Last 7 days: 0 requests/);
      assert.equal(structured(model).model.slug, "local/preview");

      const progress: Progress[] = [];
      const done = await callTool(client, "generate_video", {
        model: "local/preview",
        prompt: "a lighthouse at dusk",
        duration: 2,
        resolution: "360p",
        aspect_ratio: "16:9",
      }, (p) => progress.push(p));
      assert.equal(done.isError, undefined, textOf(done));
      const g = structured(done);
      assert.equal(g.status, "completed");
      assert.equal(g.cost_cents, 2);
      assert.match(textOf(done), new RegExp(`Generation ${g.id} is completed`));
      assert.match(textOf(done), /Cost: \$0\.02/);
      assert.match(textOf(done), /Latency: \d+\.\d s/);
      assert.ok(textOf(done).includes(`Video: ${g.output_url}`));
      // Progress: 0–100 from the events source, strictly rising, ending at completed.
      assert.ok(progress.length >= 2, JSON.stringify(progress));
      assert.deepEqual(progress.at(-1), {
        progress: 100,
        total: 100,
        message: `Generation ${g.id} is completed`,
      });
      assert.ok(progress.every((p, i) => i === 0 || p.progress > progress[i - 1].progress));
      // The video is a resource link to the signed URL, which plays without a key.
      const link = done.content.find((c: ContentBlock) => c.type === "resource_link");
      assert.ok(link && link.type === "resource_link");
      assert.equal(link.uri, g.output_url);
      assert.equal(link.mimeType, "video/mp4");
      const video = await fetch(onServer(server, link.uri));
      assert.equal(video.status, 200);
      assert.equal(video.headers.get("Content-Type"), "video/mp4");
      assert.ok((await video.arrayBuffer()).byteLength > 1000);

      const again = await callTool(client, "get_generation", { id: g.id });
      assert.deepEqual(structured(again), g);
      const v1 = await call(server.url, "GET", `/v1/video/generations/${g.id}`, { key });
      assert.deepEqual(structured(again), v1.body);

      const list = await callTool(client, "list_generations", { limit: 5, status: "completed" });
      assert.deepEqual(structured(list).data.map((x: { id: string }) => x.id), [g.id]);
      assert.ok(textOf(list).includes(`${g.id} · local/preview · completed · $0.02`));

      const usage = await callTool(client, "get_usage");
      assert.match(textOf(usage), /Balance: \$4\.98/);
      assert.match(textOf(usage), /Totals: 1 requests, 1 completed, 0 failed, \$0\.02 spent/);
      assert.ok(textOf(usage).includes(`- ${g.id} · local/preview · completed · $0.02`));
      const v1Usage = await call(server.url, "GET", "/v1/usage", { key });
      assert.deepEqual(structured(usage), v1Usage.body);

      const metrics = await callTool(client, "get_model", { slug: "local/preview" });
      assert.match(textOf(metrics), /Last 7 days: 1 requests, 1 completed, 0 failed, 100% success/);

      // The catalog as a resource, the same document as GET /v1/models.
      const { resources } = await client.listResources();
      assert.deepEqual(resources.map((r: Resource) => r.uri), ["pipevideo://models"]);
      const read = await client.readResource({ uri: "pipevideo://models" });
      const content = read.contents[0];
      assert.equal(content.mimeType, "application/json");
      assert.deepEqual(JSON.parse((content as { text: string }).text), v1Models.body);

      assert.equal((await verifyLedger(server.services.kv, orgId)).ok, true);
    } finally {
      await client.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "a slow generation: generate_video returns the id, get_generation later finds it done",
  async fn() {
    const slow = slowStandIn();
    // Polling below would exhaust the default rate limit of 100 requests a minute.
    const env = { MCP_WAIT_SECONDS: "1", RATE_LIMIT_PER_MINUTE: "100000" };
    const server = await startTestServer(env, {}, { background: true });
    server.services.generation.adapters.local = slow.adapter;
    const { orgId, key } = await fundedOrg(server.services, 100);
    const client = await connect(server, key);
    try {
      const progress: Progress[] = [];
      const started = await callTool(client, "generate_video", {
        model: "local/preview",
        prompt: "slow pan over a harbour",
        duration: 2,
        resolution: "360p",
      }, (p) => progress.push(p));
      assert.equal(started.isError, undefined, textOf(started));
      const g = structured(started);
      assert.ok(["pending", "processing"].includes(g.status), g.status);
      assert.equal(g.output_url, null);
      assert.match(textOf(started), new RegExp(`call get_generation with id ${g.id}`));
      assert.ok(!started.content.some((c: ContentBlock) => c.type === "resource_link"));
      assert.ok(progress.length >= 1);

      // A second slow one is cancelled: refunded, and a second cancel is a 409 tool error.
      const other = structured(
        await callTool(client, "generate_video", {
          model: "local/preview",
          prompt: "slow and cancelled",
          duration: 2,
          resolution: "360p",
        }),
      );
      const cancelled = await callTool(client, "cancel_generation", { id: other.id });
      assert.equal(structured(cancelled).status, "cancelled");
      const twice = await callTool(client, "cancel_generation", { id: other.id });
      assert.equal(twice.isError, true);
      assert.equal(textOf(twice), `Generation ${other.id} is already cancelled`);

      slow.release();
      const done = await waitFor(
        async () => {
          const r = structured(await callTool(client, "get_generation", { id: g.id }));
          return r.status === "completed" ? r : undefined;
        },
        "completed",
        60_000,
      );
      assert.ok(done.output_url);
      const ledger = await allLedger(server.services, orgId);
      assert.deepEqual(ledger.map((e) => [e.kind, e.amount_cents]), [
        ["refund", 2],
        ["charge", -2],
        ["charge", -2],
        ["topup", 100],
      ]);
      assert.equal((await verifyLedger(server.services.kv, orgId)).ok, true);
    } finally {
      slow.release();
      await client.close();
      await server.close();
    }
  },
});

Deno.test("API errors are tool results with isError and the API's message; nothing is charged", async () => {
  const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: "6" });
  const { orgId, key } = await fundedOrg(server.services, 10);
  const client = await connect(server, key);
  try {
    // 402: 1080p × 10 s costs 30 cents, the balance is 10.
    const poor = await callTool(client, "generate_video", {
      model: "local/preview",
      prompt: "too expensive",
      duration: 10,
      resolution: "1080p",
    });
    assert.equal(poor.isError, true);
    assert.equal(
      textOf(poor),
      "Insufficient credits: this request costs 30 cents and the balance is 10 cents",
    );
    // 400 from the service: the same message as /v1.
    const body = { model: "local/preview", prompt: "x", duration: 7 };
    const bad = await callTool(client, "generate_video", body);
    assert.equal(bad.isError, true);
    const v1Bad = await call(server.url, "POST", "/v1/video/generations", { key, body });
    assert.equal(v1Bad.status, 400);
    assert.equal(textOf(bad), v1Bad.body.message);
    // 400 from the schema: the zod message of the REST schema.
    const empty = await callTool(client, "generate_video", { model: "local/preview", prompt: " " });
    assert.equal(empty.isError, true);
    assert.match(textOf(empty), /prompt must not be empty/);
    const unknown = await callTool(client, "get_model", { slug: "nobody/nothing" });
    assert.equal(unknown.isError, true);
    assert.equal(textOf(unknown), "No model nobody/nothing");

    // 429: tool calls and /v1 requests share the key's budget (6 a minute; 4 used so far, the
    // call refused by the input schema never reached a tool).
    let limited: CallToolResult | null = null;
    for (let i = 0; i < 10 && !limited; i++) {
      const r = await callTool(client, "get_usage");
      if (r.isError) limited = r;
    }
    assert.ok(limited, "rate limit never reached");
    assert.match(textOf(limited), /^Rate limit exceeded; retry after \d+ seconds$/);
    const v1Limited = await call(server.url, "GET", "/v1/usage", { key });
    assert.equal(v1Limited.status, 429);

    assert.deepEqual(
      (await allLedger(server.services, orgId)).map((e) => [e.kind, e.amount_cents]),
      [["topup", 10]],
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a missing, unknown or revoked key is a 401 with WWW-Authenticate", async () => {
  const server = await startTestServer();
  const { orgId, keyId, key } = await fundedOrg(server.services, 10);
  try {
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "curl", version: "1" },
      },
    };
    const post = (auth?: string) =>
      fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          ...(auth ? { Authorization: auth } : {}),
        },
        body: JSON.stringify(init),
      });
    const metadataUrl = "http://localhost:3001/.well-known/oauth-protected-resource/mcp";

    const missing = await post();
    assert.equal(missing.status, 401);
    assert.equal(
      missing.headers.get("WWW-Authenticate"),
      `Bearer realm="pipevideo", resource_metadata="${metadataUrl}"`,
    );
    assert.match((await missing.json()).message, /Missing API key/);

    const wrong = await post("Bearer pv_not_a_real_key");
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("WWW-Authenticate")!, /error="invalid_token"/);
    assert.equal((await wrong.json()).error.code, "invalid_api_key");

    // The metadata the header points at (RFC 9728).
    const meta = await call(server.url, "GET", "/.well-known/oauth-protected-resource/mcp");
    assert.equal(meta.status, 200);
    assert.equal(meta.body.resource, "http://localhost:3001/mcp");
    assert.deepEqual(meta.body.bearer_methods_supported, ["header"]);

    // The SDK client refuses to connect with a revoked key; the good key works.
    const ok = await post(`Bearer ${key}`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    await revokeApiKey(server.services.kv, orgId, keyId);
    assert.equal((await post(`Bearer ${key}`)).status, 401);
    await assert.rejects(connect(server, key));

    // A browser page of another site cannot drive /mcp (DNS rebinding), even with a key.
    const { key: liveKey } = await fundedOrg(server.services, 0);
    const crossSite = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${liveKey}`,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        Origin: "http://evil.example",
      },
      body: JSON.stringify(init),
    });
    assert.equal(crossSite.status, 403);
    await crossSite.body?.cancel();

    // Without sessions there is nothing to stream or delete.
    assert.equal((await fetch(`${server.url}/mcp`)).status, 405);
  } finally {
    await server.close();
  }
});

Deno.test("another organization's generation is not found, and cannot be cancelled", async () => {
  // No workers: the other organization's generation stays pending.
  const server = await startTestServer({ MCP_WAIT_SECONDS: "0" });
  const mine = await fundedOrg(server.services, 100, "Mine");
  const theirs = await fundedOrg(server.services, 100, "Theirs");
  const client = await connect(server, mine.key);
  try {
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key: theirs.key,
      body: { model: "local/preview", prompt: "private", duration: 2, resolution: "360p" },
    });
    const id = created.body.id as string;
    for (const tool of ["get_generation", "cancel_generation"]) {
      const r = await callTool(client, tool, { id });
      assert.equal(r.isError, true, tool);
      assert.equal(textOf(r), `No generation ${id}`);
    }
    const list = await callTool(client, "list_generations");
    assert.deepEqual(structured(list).data, []);
    const still = await call(server.url, "GET", `/v1/video/generations/${id}`, { key: theirs.key });
    assert.equal(still.body.status, "pending");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test({
  name: "charges, refunds and usage from MCP calls equal those of the same calls over /v1",
  async fn() {
    const slow = slowStandIn();
    const env = { MCP_WAIT_SECONDS: "0", RATE_LIMIT_PER_MINUTE: "100000" };
    const server = await startTestServer(env, {}, { background: true });
    server.services.generation.adapters.local = slow.adapter;
    const rest = await fundedOrg(server.services, 10, "REST");
    const mcp = await fundedOrg(server.services, 10, "MCP");
    const client = await connect(server, mcp.key);
    const requests = [
      { model: "local/preview", prompt: "a fast one", duration: 2, resolution: "360p" },
      { model: "local/preview", prompt: "slow, then cancelled", duration: 3, resolution: "480p" },
      { model: "local/preview", prompt: "too expensive", duration: 10, resolution: "1080p" },
    ];
    try {
      // Each request's outcome: the generation id, or the error message.
      const viaRest: string[] = [];
      for (const body of requests) {
        const r = await call(server.url, "POST", "/v1/video/generations", { key: rest.key, body });
        viaRest.push(r.status === 200 ? r.body.id : `${r.status} ${r.body.message}`);
      }
      const viaMcp: string[] = [];
      for (const body of requests) {
        const r = await callTool(client, "generate_video", body);
        viaMcp.push(r.isError ? `402 ${textOf(r)}` : structured(r).id);
      }
      const poor =
        "402 Insufficient credits: this request costs 30 cents and the balance is 5 cents";
      assert.equal(viaRest[2], poor);
      assert.equal(viaMcp[2], poor);
      await call(server.url, "POST", `/v1/video/generations/${viaRest[1]}/cancel`, {
        key: rest.key,
      });
      await callTool(client, "cancel_generation", { id: viaMcp[1] });
      for (const [key, id] of [[rest.key, viaRest[0]], [mcp.key, viaMcp[0]]]) {
        await waitFor(
          async () => {
            const g = await call(server.url, "GET", `/v1/video/generations/${id}`, {
              key: String(key),
            });
            return g.body.status === "completed" || undefined;
          },
          "completed",
          60_000,
        );
      }

      const money = async (org: { orgId: string; key: string }) => {
        const usage = (await call(server.url, "GET", "/v1/usage", { key: org.key })).body;
        return {
          ledger: (await allLedger(server.services, org.orgId)).map((
            e,
          ) => [e.kind, e.amount_cents]),
          balance: usage.credit_balance,
          totals: usage.totals,
          daily: usage.daily_usage,
          recent: usage.recent_requests.map((r: Record<string, unknown>) => [
            r.model_name,
            r.status,
            r.cost_cents,
          ]),
        };
      };
      const a = await money(rest);
      assert.deepEqual(await money(mcp), a);
      assert.deepEqual(a.ledger, [["refund", 3], ["charge", -3], ["charge", -2], ["topup", 10]]);
      assert.equal(a.balance, 8);
      assert.equal((await verifyLedger(server.services.kv, mcp.orgId)).ok, true);
    } finally {
      slow.release();
      await client.close();
      await server.close();
    }
  },
});

Deno.test("the MCP docs page gives working client configs for this server's /mcp", async () => {
  const server = await startTestServer({ PUBLIC_URL: "https://videos.example.com" });
  const { key } = await fundedOrg(server.services, 10);
  const client = await connect(server, key);
  try {
    const res = await fetch(`${server.url}/docs/mcp`);
    assert.equal(res.status, 200);
    const html = await res.text();
    const endpoint = "https://videos.example.com/mcp";
    assert.ok(html.includes(`claude mcp add --transport http pipevideo ${endpoint}`));
    for (const { name } of (await client.listTools()).tools) {
      assert.ok(html.includes(`<code>${name}</code>`), `${name} is not documented`);
    }
    const s = mcpClientSnippets("https://videos.example.com");
    assert.equal(JSON.parse(s.cursor).mcpServers.pipevideo.url, endpoint);
    assert.equal(JSON.parse(s.vscode).servers.pipevideo.url, endpoint);
    assert.ok(JSON.parse(s.claudeDesktop).mcpServers.pipevideo.args.includes(endpoint));
    // The docs index links here, and the 401's metadata names this page.
    assert.ok((await (await fetch(`${server.url}/docs`)).text()).includes('href="/docs/mcp"'));
    const meta = await call(server.url, "GET", "/.well-known/oauth-protected-resource/mcp");
    assert.equal(meta.body.resource_documentation, "https://videos.example.com/docs/mcp");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test({
  name: "no session state: one client's requests alternate between two instances sharing a KV",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pipevideo-mcp-" });
    const env = { DENO_KV_PATH: `${dir}/kv.sqlite`, MCP_WAIT_SECONDS: "30" };
    const a = await startTestServer(env, {}, { background: true });
    const b = await startTestServer(env);
    const { key } = await fundedOrg(a.services, 100);
    // Round robin, as a load balancer might: initialize on one, tools/list on the other, …
    let n = 0;
    const hosts: string[] = [];
    const roundRobin = (url: string | URL, init?: RequestInit) => {
      const base = [a.url, b.url][n++ % 2];
      hosts.push(base);
      const u = new URL(url);
      return fetch(base + u.pathname + u.search, init);
    };
    const client = new Client({ name: "pipevideo-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${a.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
        fetch: roundRobin,
      }),
    );
    try {
      assert.equal((await client.listTools()).tools.length, 7);
      const done = await callTool(client, "generate_video", {
        model: "local/preview",
        prompt: "two instances",
        duration: 1,
        resolution: "360p",
      });
      assert.equal(structured(done).status, "completed", textOf(done));
      const again = await callTool(client, "get_generation", { id: structured(done).id });
      assert.equal(structured(again).status, "completed");
      const usage = await callTool(client, "get_usage");
      assert.equal(structured(usage).credit_balance, 99);
      assert.ok(hosts.includes(a.url) && hosts.includes(b.url), JSON.stringify(hosts));
    } finally {
      await client.close();
      await b.close();
      await a.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a client that disconnects stops generate_video's wait", async () => {
  // The wait follows the generation through a KV watch (lib/api/events.ts) and ends it, cancelling
  // the watch, when it stops: a cancelled watch per opened one proves the loop ended, with no sleep.
  const real = await Deno.openKv(":memory:");
  let opened = 0, cancelled = 0;
  const kv = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "watch") {
        return (keys: Deno.KvKey[], options?: { raw?: boolean }) => {
          const stream = target.watch(keys, options);
          // Only watches of a generation: the API-key cache keeps its own for the process's life.
          if (!keys.some((k) => k.some((part) => String(part).startsWith("gen_")))) return stream;
          const source = stream.getReader();
          opened++;
          return new ReadableStream({
            pull: async (c) => {
              const r = await source.read();
              if (r.done) c.close();
              else c.enqueue(r.value);
            },
            cancel: (reason) => {
              cancelled++;
              return source.cancel(reason);
            },
          });
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const server = await startTestServer({ MCP_WAIT_SECONDS: "30" }, { kv });
  const { key } = await fundedOrg(server.services, 10);
  try {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      signal: abort.signal,
      headers: {
        Authorization: `Bearer ${key}`,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "generate_video",
          arguments: { model: "local/preview", prompt: "never finishes", duration: 1 },
          _meta: { progressToken: "p1" },
        },
      }),
    });
    assert.equal(res.status, 200);
    // The first progress event (pending) proves the wait has begun; then the client leaves.
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /notifications\/progress/);
    abort.abort();
    await reader.cancel().catch(() => {});
    const end = Date.now() + 5_000;
    while (!(opened > 0 && cancelled === opened)) {
      assert.ok(
        Date.now() < end,
        `the wait loop kept watching after the client left (${opened} opened, ${cancelled} ended)`,
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    // Leaving is normal, not an error worth a log line.
    assert.deepEqual(server.logs.filter((l) => l.level === "error"), []);
  } finally {
    await server.close();
  }
});
