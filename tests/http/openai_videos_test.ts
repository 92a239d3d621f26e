/**
 * /v1/videos through the official `openai` npm SDK, pointed at the gateway with a Pipevideo key,
 * as a developer with code written for OpenAI's Videos API writes it: create → retrieve until
 * completed → download the MP4 → list → delete. Same generation, credits and errors underneath.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startTestServer } from "../support/server.ts";
import { call, fundedOrg } from "../support/api.ts";
import { getBalance } from "../../lib/db/ledger.ts";
import { videoSchema } from "../../lib/api/openai.ts";

Deno.test("the openai SDK: create, retrieve until completed, download the MP4, list, delete", async () => {
  const server = await startTestServer({}, {}, { background: true });
  try {
    const { orgId, key } = await fundedOrg(server.services, 100);
    const client = new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });

    const created = await client.videos.create({
      model: "local/preview" as OpenAI.VideoModel,
      prompt: "a paper boat on a puddle",
      seconds: "2" as OpenAI.VideoSeconds,
      size: "640x360" as OpenAI.VideoSize,
    });
    assert.equal(created.object, "video");
    assert.equal(created.status, "queued");
    assert.equal(created.seconds, "2");
    assert.equal(created.size, "640x360");
    assert.equal(created.prompt, "a paper boat on a puddle");
    // Our fields beside OpenAI's: the charge is known and taken at submit.
    const extra = created as unknown as { cost_cents: number; resolution: string };
    assert.equal(extra.resolution, "360p");
    assert.ok(extra.cost_cents > 0);
    assert.equal(await getBalance(server.services.kv, orgId), 100 - extra.cost_cents);

    let video = created;
    const deadline = Date.now() + 60_000;
    while (video.status !== "completed" && video.status !== "failed") {
      assert.ok(Date.now() < deadline, `still ${video.status}`);
      await new Promise((r) => setTimeout(r, 200));
      video = await client.videos.retrieve(created.id);
    }
    assert.equal(video.status, "completed", JSON.stringify(video.error));
    assert.equal(video.progress, 100);
    assert.equal(video.error, null);

    const content = await client.videos.downloadContent(video.id);
    const bytes = new Uint8Array(await content.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes.subarray(4, 8)), "ftyp", "an MP4");
    assert.ok(bytes.length > 1000);

    const second = await client.videos.create({
      model: "local/preview" as OpenAI.VideoModel,
      prompt: "a second one",
      seconds: "1" as OpenAI.VideoSeconds,
    });
    const page = await client.videos.list({ limit: 1 });
    assert.deepEqual(page.data.map((v) => v.id), [second.id]);
    assert.equal(page.hasNextPage(), true);
    const all: string[] = [];
    for await (const v of client.videos.list({ limit: 1 })) all.push(v.id);
    assert.deepEqual(all, [second.id, video.id]);
    const oldestFirst = await client.videos.list({ order: "asc" });
    assert.deepEqual(oldestFirst.data.map((v) => v.id), [video.id, second.id]);

    const deleted = await client.videos.delete(video.id);
    assert.deepEqual(deleted, { id: video.id, object: "video.deleted", deleted: true });
    await assert.rejects(() => client.videos.retrieve(video.id), OpenAI.NotFoundError);
    await assert.rejects(() => client.videos.downloadContent(video.id), OpenAI.NotFoundError);
    const after = await client.videos.list();
    assert.deepEqual(after.data.map((v) => v.id), [second.id]);
  } finally {
    await server.close();
  }
});

Deno.test("the openai SDK: errors in OpenAI's envelope, naming the parameter; nothing charged", async () => {
  const server = await startTestServer();
  try {
    const { orgId, key } = await fundedOrg(server.services, 100);
    const client = new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const refused = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (err) {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        return err;
      }
      assert.fail("accepted");
    };
    const size = await refused(() =>
      client.videos.create({
        model: "local/preview" as OpenAI.VideoModel,
        prompt: "x",
        size: "1792x1024",
      })
    );
    assert.equal(size.status, 400);
    assert.equal(size.param, "size");
    assert.match(size.message, /supports sizes .*640x360.*1280x720.*not 1792x1024/);

    const seconds = await refused(() =>
      client.videos.create({
        model: "local/preview" as OpenAI.VideoModel,
        prompt: "x",
        seconds: "7" as OpenAI.VideoSeconds,
      })
    );
    assert.equal(seconds.param, "seconds");

    const badKey = new OpenAI({ apiKey: "pv_nope", baseURL: `${server.url}/v1`, maxRetries: 0 });
    const auth = await refused(() => badKey.videos.list());
    assert.equal(auth.status, 401);

    const remix = await refused(() => client.videos.remix("gen_x", { prompt: "again" }));
    assert.equal(remix.status, 404);
    assert.equal(remix.code, "unsupported");
    assert.equal(await getBalance(server.services.kv, orgId), 100);

    // The raw envelope, and a typo refused with a did-you-mean (JSON body).
    const typo = await call(server.url, "POST", "/v1/videos", {
      key,
      body: { model: "local/preview", prompt: "x", secnods: "4" },
    });
    assert.equal(typo.status, 400);
    assert.deepEqual(typo.body.error, {
      message: "Unknown parameter secnods; did you mean seconds?",
      type: "invalid_request_error",
      param: "secnods",
      code: "unknown_parameter",
    });
    // Our fields are accepted on this surface too.
    const ours = await call(server.url, "POST", "/v1/videos", {
      key,
      body: {
        model: "local/preview",
        prompt: "x",
        seconds: 1,
        aspect_ratio: "9:16",
        resolution: "360p",
      },
    });
    assert.equal(ours.status, 200, JSON.stringify(ours.body));
    assert.equal(ours.body.size, "360x640");
    // The documented schema (/openapi.json's Video) is exactly what is returned.
    assert.deepEqual(videoSchema.strict().parse(ours.body), ours.body);
    const polled = await call(server.url, "GET", `/v1/videos/${ours.body.id}`, { key });
    assert.equal(polled.headers.get("openai-poll-after-ms"), "2000");
    assert.equal(await getBalance(server.services.kv, orgId), 100 - ours.body.cost_cents);
  } finally {
    await server.close();
  }
});
