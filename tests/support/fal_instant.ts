/**
 * fal.ai's queue API, as the adapter speaks it: every request completes at its first status
 * check; a prompt containing "reject" gets a final (not retryable) error from the result call.
 * Also the webhook receiver: it records each delivery's webhook-id by generation. And two slow
 * neighbours for fairness tests: `/tarpit.png` never answers (until close) and `/slow-hook`
 * answers a delivery after `slowMs`.
 */
export function falStandIn(video: Uint8Array<ArrayBuffer>, slowMs = 10_000) {
  const released = Promise.withResolvers<void>();
  let tarpitted = 0, slowHooks = 0;
  const prompts = new Map<string, string>();
  const deliveries = new Map<string, string[]>(); // generation id -> webhook-ids received
  let n = 0;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req): Promise<Response> => {
      const url = new URL(req.url);
      const base: string = `http://127.0.0.1:${server.addr.port}`;
      const path = url.pathname;
      if (path === "/tarpit.png") {
        tarpitted++;
        await released.promise;
        return new Response("closed", { status: 503 });
      }
      if (path === "/slow-hook") {
        slowHooks++;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([released.promise, new Promise((r) => timer = setTimeout(r, slowMs))]);
        clearTimeout(timer);
        return new Response("ok");
      }
      if (path === "/hook" && req.method === "POST") {
        const event = await req.json();
        const list = deliveries.get(event.generationId) ?? [];
        list.push(req.headers.get("webhook-id") ?? "");
        deliveries.set(event.generationId, list);
        return new Response("ok");
      }
      if (path === "/video.mp4") {
        return new Response(video, { headers: { "content-type": "video/mp4" } });
      }
      const m = path.match(/^\/fal\/requests\/(r\d+)(\/status|\/cancel)?$/);
      if (m) {
        const [, id, sub] = m;
        const resp: string = `${base}/fal/requests/${id}`;
        if (sub === "/status") return Response.json({ status: "COMPLETED", response_url: resp });
        if (sub === "/cancel") {
          return Response.json({ status: "CANCELLATION_REQUESTED" }, { status: 202 });
        }
        if (prompts.get(id)?.includes("reject")) {
          return Response.json({
            detail: [{
              loc: ["body", "prompt"],
              msg: "this prompt is refused",
              type: "value_error",
            }],
          }, { status: 422 });
        }
        return Response.json({ video: { url: `${base}/video.mp4`, content_type: "video/mp4" } });
      }
      if (path.startsWith("/fal/") && req.method === "POST") {
        const id = `r${++n}`;
        prompts.set(id, (await req.json()).prompt ?? "");
        const resp: string = `${base}/fal/requests/${id}`;
        return Response.json({
          status: "IN_QUEUE",
          request_id: id,
          response_url: resp,
          status_url: `${resp}/status`,
          cancel_url: `${resp}/cancel`,
        });
      }
      return new Response("not found", { status: 404 });
    },
  );
  return {
    base: () => `http://127.0.0.1:${server.addr.port}`,
    deliveries,
    /** Requests the tarpit is holding or has held. */
    tarpitted: () => tarpitted,
    /** Deliveries the slow receiver has taken (each held for `slowMs`). */
    slowHooks: () => slowHooks,
    close: () => {
      released.resolve();
      return server.shutdown();
    },
  };
}
