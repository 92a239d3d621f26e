/**
 * fal.ai's queue API, standing in on 127.0.0.1: accepts every job and keeps it queued, so tests
 * can run the real job queue without a provider finishing (or ffmpeg rendering) anything.
 */
export function startFalStub() {
  let n = 0;
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen() {},
  }, async (req): Promise<Response> => {
    await req.body?.cancel();
    const base = `http://127.0.0.1:${server.addr.port}`;
    if (req.method === "POST") {
      const id = `req_${n++}`;
      return Response.json({
        request_id: id,
        status_url: `${base}/requests/${id}/status`,
        response_url: `${base}/requests/${id}`,
        cancel_url: `${base}/requests/${id}/cancel`,
      });
    }
    return Response.json({ status: "IN_QUEUE", queue_position: 1 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}
