/**
 * The container and service probe: exits 0 when this machine's Pipevideo answers 2xx on the
 * path given (`/healthz`: the process lives; `/readyz`: KV and the video store answer), else 1.
 *   deno run --allow-net=127.0.0.1 --allow-env=PORT scripts/healthcheck.ts /readyz
 * The Deno image has no curl; this needs nothing but Deno.
 */
const path = Deno.args[0] ?? "/healthz";
const port = Deno.env.get("PORT") ?? "3001";
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) });
  await res.body?.cancel();
  Deno.exit(res.ok ? 0 : 1);
} catch {
  Deno.exit(1);
}
