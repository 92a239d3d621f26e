/**
 * GET /v1/video/generations/{id}/events: the generation as it changes, as server-sent events,
 * across instances (instance A serves the stream; instance B, a second app on the same KV file,
 * runs the work), resumable with Last-Event-ID, closed after the terminal event.
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.ts";
import { call, fundedOrg } from "../support/api.ts";
import { createServices, type Services } from "../../lib/services.ts";
import { testConfig } from "../../lib/config.ts";
import { startBackground } from "../../lib/background.ts";
import { cancelGeneration } from "../../lib/generations/service.ts";

interface SseEvent {
  id: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** Reads a text/event-stream until it closes or `until` says stop; every event, in order. */
async function readEvents(
  res: Response,
  until: (e: SseEvent) => boolean = () => false,
): Promise<{ events: SseEvent[]; closed: boolean }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { events, closed: true };
    buf += value;
    let end;
    while ((end = buf.indexOf("\n\n")) !== -1) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const field = (name: string) =>
        block.split("\n").find((l) => l.startsWith(name + ": "))?.slice(name.length + 2);
      const data = field("data");
      if (data === undefined) continue; // retry: hint or keep-alive comment
      const e = { id: field("id")!, data: JSON.parse(data) };
      events.push(e);
      if (until(e)) {
        await reader.cancel();
        return { events, closed: false };
      }
    }
  }
}

const events = (server: TestServer, key: string, id: string, lastEventId?: string) =>
  fetch(`${server.url}/v1/video/generations/${id}/events`, {
    headers: {
      Authorization: `Bearer ${key}`,
      Accept: "text/event-stream",
      ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}),
    },
  });

const BODY = { model: "local/preview", prompt: "a tide pool", duration: 1, resolution: "360p" };

/** Instance A (serves HTTP, runs no work) and B (runs the work) on one KV file. */
async function twoInstances(): Promise<{
  a: TestServer;
  b: Services;
  /** Closes both; `background` is B's job runner, when started (it ends with B's KV). */
  close(background?: Promise<void> | null): Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "pv-events-" });
  const env = { DENO_KV_PATH: `${dir}/kv.sqlite`, DATA_DIR: dir };
  const a = await startTestServer(env);
  const b = await createServices(testConfig(env), { log: () => {} });
  return {
    a,
    b,
    async close(background) {
      await a.close();
      b.kv.close();
      await background;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("events: a change made by another instance reaches the stream, which ends after the terminal event", async () => {
  const { a, b, close } = await twoInstances();
  let background: Promise<void> | null = null;
  try {
    const { key } = await fundedOrg(a.services, 100);
    const created = await call(a.url, "POST", "/v1/video/generations", { key, body: BODY });
    assert.equal(created.status, 200);
    const res = await events(a, key, created.body.id);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("Content-Type")!, /^text\/event-stream/);
    const reading = readEvents(res);
    // Only now does any instance work on it: B, which serves no HTTP.
    background = startBackground(b, { cron: false });
    const { events: seen, closed } = await reading;
    assert.ok(closed, "the stream closes after the terminal event");
    const statuses = seen.map((e) => e.data.status);
    assert.equal(statuses[0], "pending");
    assert.equal(statuses.at(-1), "completed", statuses.join());
    assert.equal(statuses.filter((s) => s === "completed").length, 1);
    const done = seen.at(-1)!.data;
    assert.equal(done.progress, 100);
    assert.ok(done.output_url);
    assert.equal(done.cost_cents, created.body.cost_cents);
    // Ids are distinct per state shown; the data is the generation object of GET.
    assert.equal(new Set(seen.map((e) => e.id)).size, seen.length);
    const got = await call(a.url, "GET", `/v1/video/generations/${created.body.id}`, { key });
    assert.deepEqual(Object.keys(done).sort(), Object.keys(got.body).sort());
    assert.ok(seen.every((e) => e.data.progress >= 0 && e.data.progress <= 100));
  } finally {
    await close(background);
  }
});

Deno.test("events: Last-Event-ID resumes without repeating the state last seen", async () => {
  const { a, b, close } = await twoInstances();
  try {
    const { orgId, key } = await fundedOrg(a.services, 100);
    const created = await call(a.url, "POST", "/v1/video/generations", { key, body: BODY });
    const id = created.body.id;
    // Nothing runs the work: the generation stays pending.
    const first = await readEvents(await events(a, key, id), () => true);
    assert.equal(first.events.length, 1);
    assert.equal(first.events[0].data.status, "pending");

    // Reconnecting with that id: the stream sends nothing until the generation changes, then
    // the change (a cancel made through instance B).
    const resumed = await events(a, key, id, first.events[0].id);
    const reading = readEvents(resumed);
    await cancelGeneration(b.generation, orgId, id);
    const after = await reading;
    assert.ok(after.closed);
    assert.deepEqual(after.events.map((e) => e.data.status), ["cancelled"]);
    assert.equal(after.events[0].data.cost_cents, 0);

    // Resuming after the terminal event: closed at once with nothing new.
    const end = await readEvents(await events(a, key, id, after.events[0].id));
    assert.deepEqual(end, { events: [], closed: true });
    // Without Last-Event-ID, a finished generation's stream is its terminal state, then closed.
    const again = await readEvents(await events(a, key, id));
    assert.deepEqual(again.events.map((e) => e.data.status), ["cancelled"]);
    assert.ok(again.closed);
  } finally {
    await close();
  }
});

Deno.test("events: same auth and org scoping as GET; a bad id is 404 JSON, not a stream", async () => {
  const server = await startTestServer();
  try {
    const mine = await fundedOrg(server.services, 100);
    const other = await fundedOrg(server.services, 100, "Other org");
    const created = await call(server.url, "POST", "/v1/video/generations", {
      key: mine.key,
      body: BODY,
    });
    const id = created.body.id;
    const anon = await fetch(`${server.url}/v1/video/generations/${id}/events`);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    for (
      const path of [`/v1/video/generations/${id}/events`, "/v1/video/generations/gen_nope/events"]
    ) {
      const res = await call(server.url, "GET", path, {
        key: path.includes(id) ? other.key : mine.key,
      });
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, "not_found");
    }
  } finally {
    await server.close();
  }
});
