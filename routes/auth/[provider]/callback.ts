import { HttpError } from "fresh";
import { define } from "../../../utils.ts";
import { finishOAuth, parseProvider } from "../../../lib/auth/oauth.ts";

/** The provider sends the browser back here with ?code&state. */
export const handler = define.handlers({
  async GET(ctx) {
    const provider = parseProvider(ctx.state.services.config, ctx.params.provider);
    if (!provider) throw new HttpError(404);
    const { setCookies, next } = await finishOAuth(ctx.state.services, ctx.req, provider, ctx.url);
    const headers = new Headers({ Location: next });
    for (const c of setCookies) headers.append("Set-Cookie", c);
    return new Response(null, { status: 303, headers });
  },
});
