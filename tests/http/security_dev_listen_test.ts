import assert from "node:assert/strict";

/** This machine's own addresses that are not loopback (nor IPv6 link-local), if any. */
function nonLoopbackAddresses(): string[] {
  return Deno.networkInterfaces()
    .filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
    .map((i) => i.address);
}

async function canConnect(hostname: string, port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname, port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("development mode listens on loopback only and says so; HOST opens it on purpose", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pv-devlisten-" });
  for (const host of [undefined, "0.0.0.0"]) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
      clearEnv: true, // no APP_ENV: development mode, as a fresh checkout runs
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? dir,
        ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
        PORT: String(port),
        DATA_DIR: dir,
        DENO_KV_PATH: `${dir}/kv.sqlite`,
        ...(host ? { HOST: host } : {}),
      },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const deadline = Date.now() + 60_000;
      while (!await canConnect("127.0.0.1", port)) {
        assert.ok(Date.now() < deadline, "the server did not start");
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const address of nonLoopbackAddresses()) {
        assert.equal(await canConnect(address, port), host !== undefined, `${address}:${port}`);
      }
    } finally {
      child.kill("SIGTERM");
      const out = new TextDecoder().decode((await child.output()).stdout);
      if (!host) assert.match(out, /development mode: listening on 127\.0\.0\.1 only; set HOST/);
      else assert.doesNotMatch(out, /listening on 127\.0\.0\.1 only/);
    }
  }
  await Deno.remove(dir, { recursive: true });
});
