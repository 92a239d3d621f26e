import {
  CodeChallengeMethod,
  generateCodeVerifier,
  generateState,
  OAuth2Client,
  type OAuth2Tokens,
} from "arctic";
import type { Config } from "../config.ts";
import type { Services } from "../services.ts";
import { BadRequest, RateLimited } from "../errors.ts";
import { consumeOAuthState, countSignInAttempt, saveOAuthState } from "../db/sessions.ts";
import { type ClientAddress, rateLimitSubject } from "../http/client.ts";
import {
  findOrCreateUserByEmail,
  getUserByIdentity,
  type IdentityProvider,
  linkIdentity,
  type User,
} from "../db/users.ts";
import { clearCookie, getCookie, serializeCookie } from "./cookies.ts";
import { safeNext, secureCookies, startSession } from "./session.ts";
import { SIGNIN_LIMITS } from "./signin.ts";
import { configSecretBox } from "../secret_box.ts";

/** GitHub and Google sign-in: authorization code flow with state and PKCE (S256), via arctic. */
export interface OAuthProviderInfo {
  id: IdentityProvider;
  label: string;
}

interface Endpoints {
  authorize: string;
  token: string;
  scopes: string[];
  clientId?: string;
  clientSecret?: string;
  /** The provider's verified email and account id for an access token. */
  profile(token: string, fetchFn: typeof fetch, config: Config): Promise<Profile>;
}

interface Profile {
  subject: string;
  email: string | null;
  name: string | null;
}

export const OAUTH_STATE_COOKIE = "pv_oauth_state";

function endpoints(config: Config, provider: IdentityProvider): Endpoints {
  if (provider === "github") {
    const base = config.GITHUB_OAUTH_URL.replace(/\/$/, "");
    return {
      authorize: `${base}/login/oauth/authorize`,
      token: `${base}/login/oauth/access_token`,
      scopes: ["read:user", "user:email"],
      clientId: config.GITHUB_CLIENT_ID,
      clientSecret: config.GITHUB_CLIENT_SECRET,
      profile: githubProfile,
    };
  }
  return {
    authorize: config.GOOGLE_AUTH_URL,
    token: config.GOOGLE_TOKEN_URL,
    scopes: ["openid", "email", "profile"],
    clientId: config.GOOGLE_CLIENT_ID,
    clientSecret: config.GOOGLE_CLIENT_SECRET,
    profile: googleProfile,
  };
}

const LABELS: Record<IdentityProvider, string> = { github: "GitHub", google: "Google" };

/** The providers with a client id and secret configured, in display order. */
export function oauthProviders(config: Config): OAuthProviderInfo[] {
  return (["github", "google"] as const)
    .filter((p) => {
      const e = endpoints(config, p);
      return e.clientId && e.clientSecret;
    })
    .map((id) => ({ id, label: LABELS[id] }));
}

export function parseProvider(config: Config, name: string): IdentityProvider | null {
  return oauthProviders(config).find((p) => p.id === name)?.id ?? null;
}

function client(config: Config, provider: IdentityProvider, e: Endpoints) {
  return new OAuth2Client(
    e.clientId!,
    e.clientSecret!,
    `${config.publicUrl}/auth/${provider}/callback`,
  );
}

/** Where to send the browser, and the cookie that binds the state to this browser. */
export async function startOAuth(
  services: Services,
  provider: IdentityProvider,
  next: string | null,
  from: ClientAddress,
): Promise<{ url: string; setCookie: string }> {
  const { config, kv } = services;
  const e = endpoints(config, provider);
  const limit = SIGNIN_LIMITS.oauthPerIp;
  const counted = await countSignInAttempt(kv, "oauth_ip", rateLimitSubject(from.ip), {
    ...limit,
    nowMs: services.now(),
  });
  if (!counted.allowed) throw new RateLimited(counted.retryAfterSeconds, {});
  const state = generateState();
  const verifier = generateCodeVerifier();
  // Sealed at rest: a copy of the database holds neither the PKCE verifier nor an invite link.
  const box = configSecretBox(config);
  await saveOAuthState(kv, state, {
    provider,
    verifier: await box.seal(verifier),
    next: await box.seal(safeNext(next)),
  });
  const url = client(config, provider, e).createAuthorizationURLWithPKCE(
    e.authorize,
    state,
    CodeChallengeMethod.S256,
    verifier,
    e.scopes,
  );
  const setCookie = serializeCookie(OAUTH_STATE_COOKIE, state, {
    secure: secureCookies(config),
    maxAgeSeconds: 600,
    path: `/auth/${provider}`,
  });
  return { url: url.toString(), setCookie };
}

const refused = (why: string) =>
  new BadRequest(`Sign-in could not be completed: ${why}. Please try again.`, null, "oauth_failed");

/**
 * The provider redirected back: the state must match this browser's cookie and a state we
 * issued (used once), then the code is exchanged with the PKCE verifier and the account's
 * verified email finds or creates the user.
 */
export async function finishOAuth(
  services: Services,
  req: Request,
  provider: IdentityProvider,
  url: URL,
): Promise<{ setCookies: string[]; next: string }> {
  const { config, kv } = services;
  const state = url.searchParams.get("state");
  const code = url.searchParams.get("code");
  if (url.searchParams.get("error")) throw refused("the provider declined");
  const cookieState = getCookie(req, OAUTH_STATE_COOKIE);
  if (!state || !code || !cookieState || state !== cookieState) throw refused("state mismatch");
  const saved = await consumeOAuthState(kv, state);
  if (!saved || saved.provider !== provider) throw refused("state expired or already used");
  const box = configSecretBox(config);
  const e = endpoints(config, provider);
  let tokens: OAuth2Tokens;
  try {
    tokens = await client(config, provider, e).validateAuthorizationCode(
      e.token,
      code,
      await box.open(saved.verifier),
    );
  } catch (err) {
    services.log("warn", "oauth code exchange failed", { provider, error: String(err) });
    throw refused("the provider did not accept the code");
  }
  const profile = await e.profile(tokens.accessToken(), services.fetch, config);
  const user = await userForProfile(kv, provider, profile, services.now());
  const { setCookie } = await startSession(kv, config, req, user.id, services.now());
  const clearState = clearCookie(OAUTH_STATE_COOKIE, {
    secure: secureCookies(config),
    path: `/auth/${provider}`,
  });
  return { setCookies: [setCookie, clearState], next: safeNext(await box.open(saved.next)) };
}

async function userForProfile(
  kv: Deno.Kv,
  provider: IdentityProvider,
  profile: Profile,
  nowMs: number,
): Promise<User> {
  const linked = await getUserByIdentity(kv, provider, profile.subject);
  if (linked) return linked;
  if (!profile.email) {
    throw refused(`your ${LABELS[provider]} account has no verified email address`);
  }
  const user = await findOrCreateUserByEmail(
    kv,
    { email: profile.email, name: profile.name },
    nowMs,
  );
  await linkIdentity(kv, provider, profile.subject, user.id);
  return user;
}

async function getJson(fetchFn: typeof fetch, url: string, token: string): Promise<unknown> {
  const res = await fetchFn(url, {
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      "User-Agent": "Pipevideo",
    },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw refused(`the provider answered ${res.status}`);
  }
  return await res.json();
}

async function githubProfile(token: string, fetchFn: typeof fetch, config: Config) {
  const api = config.GITHUB_API_URL.replace(/\/$/, "");
  const user = await getJson(fetchFn, `${api}/user`, token) as {
    id: number;
    login: string;
    name: string | null;
  };
  const emails = await getJson(fetchFn, `${api}/user/emails`, token) as {
    email: string;
    primary: boolean;
    verified: boolean;
  }[];
  const verified = emails.filter((e) => e.verified);
  const email = (verified.find((e) => e.primary) ?? verified[0])?.email ?? null;
  return { subject: String(user.id), email, name: user.name ?? user.login };
}

async function googleProfile(token: string, fetchFn: typeof fetch, config: Config) {
  const info = await getJson(fetchFn, config.GOOGLE_USERINFO_URL, token) as {
    sub: string;
    email?: string;
    email_verified?: boolean;
    name?: string;
  };
  return {
    subject: info.sub,
    email: info.email && info.email_verified === true ? info.email : null,
    name: info.name ?? null,
  };
}
