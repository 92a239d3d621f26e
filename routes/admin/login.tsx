import { page } from "fresh";
import { define } from "../../utils.ts";
import { NotFound, RateLimited } from "../../lib/errors.ts";
import { clientAddress, rateLimitSubject } from "../../lib/http/client.ts";
import { countSignInAttempt } from "../../lib/db/sessions.ts";
import { readFormObject } from "../../lib/http/form.ts";
import { sameSecret } from "../../lib/http/bearer.ts";
import { createOperatorSession } from "../../lib/db/operator_sessions.ts";
import { operatorCookie } from "../../lib/admin/operator_cookie.ts";
import { Field, fieldAria } from "../../components/ui.tsx";

interface Data {
  error: string | null;
}

/** Sign-in attempts per client address. */
const OPERATOR_SIGNIN_LIMIT = { limit: 10, windowMs: 15 * 60_000 };

/**
 * Operator sign-in: the ADMIN_TOKEN, posted once in the `token` field, opens a short session
 * whose random token is the cookie. The ADMIN_TOKEN is never stored, logged or set as a cookie.
 */
export const handler = define.handlers<Data>({
  GET(ctx) {
    if (!ctx.state.services.config.ADMIN_TOKEN) throw new NotFound();
    return page({ error: null });
  },
  async POST(ctx) {
    const { config, kv, now, log } = ctx.state.services;
    if (!config.ADMIN_TOKEN) throw new NotFound();
    // Guessing the token is hopeless at 16+ random characters; a weak one still gets no volley.
    const { ip } = clientAddress(ctx.req, ctx.info, config.TRUSTED_PROXY);
    const attempt = await countSignInAttempt(kv, "ip", `operator ${rateLimitSubject(ip)}`, {
      ...OPERATOR_SIGNIN_LIMIT,
      nowMs: now(),
    });
    if (!attempt.allowed) {
      log("warn", "operator sign-in rate limited", { ip });
      throw new RateLimited(attempt.retryAfterSeconds, {});
    }
    const { token } = await readFormObject(ctx.req);
    if (!sameSecret(typeof token === "string" ? token.trim() : null, config.ADMIN_TOKEN)) {
      log("warn", "operator sign-in refused", { request_id: ctx.state.requestId });
      return page({ error: "That is not this server's ADMIN_TOKEN." }, { status: 401 });
    }
    const { token: sessionToken, session } = await createOperatorSession(kv, now());
    log("info", "operator signed in", {
      request_id: ctx.state.requestId,
      operator_session: session.id,
    });
    return new Response(null, {
      status: 303,
      headers: { Location: "/admin", "Set-Cookie": operatorCookie(config, sessionToken) },
    });
  },
});

export default define.page<unknown, Data>(function OperatorLogin({ data }) {
  return (
    <main id="main" class="container auth-page">
      <div class="card auth-card">
        <h1>Operator console</h1>
        <p class="lead">Sign in with this server's ADMIN_TOKEN. The session lasts 30 minutes.</p>
        <form method="post" action="/admin/login" novalidate>
          <Field id="token" label="Admin token" error={data.error}>
            <input
              {...fieldAria("token", data.error)}
              name="token"
              type="password"
              autocomplete="current-password"
              required
              autofocus
            />
          </Field>
          <button type="submit" class="button primary wide">Sign in</button>
        </form>
      </div>
    </main>
  );
});
