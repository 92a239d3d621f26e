import { HttpError } from "fresh";
import { define } from "../../../utils.ts";
import { parseProvider, startOAuth } from "../../../lib/auth/oauth.ts";
import { clientAddress } from "../../../lib/http/client.ts";

/** Starts GitHub/Google sign-in: state + PKCE saved, browser sent to the provider. */
export const handler = define.handlers({
  async GET(ctx) {
    const provider = parseProvider(ctx.state.services.config, ctx.params.provider);
    if (!provider) throw new HttpError(404);
    const { url, setCookie } = await startOAuth(
      ctx.state.services,
      provider,
      ctx.url.searchParams.get("next"),
      clientAddress(ctx.req, ctx.info, ctx.state.services.config.TRUSTED_PROXY),
    );
    return new Response(null, { status: 302, headers: { Location: url, "Set-Cookie": setCookie } });
  },
});
