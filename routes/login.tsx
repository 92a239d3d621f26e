import { page } from "fresh";
import { z } from "zod";
import { define } from "../utils.ts";
import { readFormObject } from "../lib/http/form.ts";
import { clientAddress } from "../lib/http/client.ts";
import type { Services } from "../lib/services.ts";
import { emailSignInAvailable, requestMagicLink } from "../lib/auth/signin.ts";
import { type OAuthProviderInfo, oauthProviders } from "../lib/auth/oauth.ts";
import { readSession, safeNext } from "../lib/auth/session.ts";
import { Field, fieldAria, Flash } from "../components/ui.tsx";
import { noticeFor } from "../lib/http/notice.ts";
import { getInvite } from "../lib/db/memberships.ts";
import { getOrg } from "../lib/db/orgs.ts";
import { mailerFor } from "../lib/mail.ts";
import ForgetPost from "../islands/ForgetPost.tsx";

const LoginForm = z.object({
  email: z.string().trim().min(1, "Enter your email address").max(254)
    .pipe(z.email("Enter a valid email address, like you@example.com")),
  next: z.string().max(2000).optional(),
});

interface Data {
  next: string;
  email: string;
  error: string | null;
  sent: boolean;
  devLink: string | null;
  /** A mail server is configured: "we sent a link" is true. */
  mailed: boolean;
  providers: OAuthProviderInfo[];
  emailAvailable: boolean;
  notice: string | null;
  /** Signing in to accept an invitation: who invited them. */
  invitedTo: { org: string; role: string } | null;
}

const NOTICES: Record<string, string> = {
  signed_out: "You are signed out.",
  signed_out_everywhere: "You are signed out on every device.",
};

export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { services } = ctx.state;
    const next = safeNext(ctx.url.searchParams.get("next"));
    if (await readSession(services.kv, ctx.req, services.now())) return ctx.redirect(next, 303);
    const data = base(
      ctx.state.services,
      next,
      noticeFor(NOTICES, ctx.url.searchParams.get("m")) ?? undefined,
    );
    data.invitedTo = await invitationOf(services, next);
    return page(data);
  },
  async POST(ctx) {
    const { services } = ctx.state;
    const form = await readFormObject(ctx.req);
    const parsed = LoginForm.safeParse(form);
    const next = safeNext(typeof form.next === "string" ? form.next : null);
    if (!parsed.success) {
      const data = base(services, next);
      data.email = typeof form.email === "string" ? form.email : "";
      data.error = parsed.error.issues[0].message;
      return page(data, { status: 400 });
    }
    const { devLink } = await requestMagicLink(services, {
      email: parsed.data.email,
      next,
      client: clientAddress(ctx.req, ctx.info, services.config.TRUSTED_PROXY),
    });
    return page({
      ...base(services, next),
      email: parsed.data.email,
      sent: true,
      devLink,
      invitedTo: await invitationOf(services, next),
    });
  },
});

function base(services: Services, next: string, notice?: string): Data {
  return {
    next,
    email: "",
    error: null,
    sent: false,
    devLink: null,
    mailed: mailerFor(services.config).configured,
    providers: oauthProviders(services.config),
    emailAvailable: emailSignInAvailable(services),
    notice: notice ?? null,
    invitedTo: null,
  };
}

/** The organization and role of the invitation `next` leads to, if it is a live one. */
async function invitationOf(services: Services, next: string): Promise<Data["invitedTo"]> {
  const token = /^\/invites\/([A-Za-z0-9_-]{1,128})$/.exec(next)?.[1];
  if (!token) return null;
  const invite = await getInvite(services.kv, token, services.now());
  const org = invite ? await getOrg(services.kv, invite.org_id) : null;
  return invite && org ? { org: org.name, role: invite.role } : null;
}

export default define.page<unknown, Data>(function Login({ data }) {
  return (
    <main id="main" class="container auth-page">
      <div class="card auth-card">
        <h1>Sign in to Pipevideo</h1>
        {data.invitedTo && (
          <Flash kind="info">
            <span data-testid="invited-to">
              You are invited to join <strong>{data.invitedTo.org}</strong> as{" "}
              {data.invitedTo.role}. Sign in to accept.
            </span>
          </Flash>
        )}
        {data.notice && <Flash kind="info">{data.notice}</Flash>}
        {data.sent
          ? (
            <>
              <ForgetPost />
              {data.devLink
                ? (
                  // Nothing was mailed: saying "we sent a link" here would send them to their inbox.
                  <div class="dev-notice" role="note" data-testid="no-mail-notice">
                    <p>
                      <strong>Development mode:</strong>{" "}
                      no mail server is configured, so no email was sent. Use this link, which works
                      once and expires in 15 minutes:
                    </p>
                    <p>
                      <a href={data.devLink} data-testid="dev-magic-link">
                        Sign in as {data.email}
                      </a>
                    </p>
                  </div>
                )
                : data.mailed
                ? (
                  <Flash kind="success">
                    We sent a sign-in link to{" "}
                    <strong>{data.email}</strong>. It works once and expires in 15 minutes.
                  </Flash>
                )
                : (
                  <Flash kind="info">
                    <span data-testid="no-mail-notice">
                      No mail server is configured here, so no email was sent: the sign-in link for
                      {" "}
                      <strong>{data.email}</strong>{" "}
                      was written to the server's log. Ask whoever runs this server for it.
                    </span>
                  </Flash>
                )}
              <p>
                <a href={`/login?next=${encodeURIComponent(data.next)}`}>Use another address</a>
              </p>
            </>
          )
          : (
            <>
              <p class="lead">New here? Signing in creates your account.</p>
              {data.emailAvailable && (
                <form method="post" action="/login" novalidate>
                  <input type="hidden" name="next" value={data.next} />
                  <Field id="email" label="Email address" error={data.error}>
                    <input
                      {...fieldAria("email", data.error)}
                      name="email"
                      type="email"
                      autocomplete="email"
                      required
                      value={data.email}
                      autofocus
                    />
                  </Field>
                  <button type="submit" class="button primary wide">Email me a sign-in link</button>
                </form>
              )}
              {data.providers.length > 0 && (
                <div class="oauth-options">
                  {data.emailAvailable && (
                    <p class="divider">
                      <span>or</span>
                    </p>
                  )}
                  {data.providers.map((p) => (
                    <a
                      key={p.id}
                      class="button wide"
                      href={`/auth/${p.id}?next=${encodeURIComponent(data.next)}`}
                    >
                      Continue with {p.label}
                    </a>
                  ))}
                </div>
              )}
              {!data.emailAvailable && data.providers.length === 0 && (
                <Flash kind="warning">
                  No sign-in method is configured. Set SMTP_URL, or GitHub/Google OAuth credentials.
                </Flash>
              )}
            </>
          )}
      </div>
    </main>
  );
});
