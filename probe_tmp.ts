import { startTestServer } from "./lib/testing/server.ts";
import { signIn } from "./lib/testing/auth.ts";
const s = await startTestServer();
const u = await signIn(s);
const html = await (await fetch(s.url + "/playground", { headers: u.headers })).text();
console.log(html.match(/<link rel="modulepreload"[^>]*>/g));
await s.close();
