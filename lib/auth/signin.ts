import type { Services } from "../services.ts";
import type { Config } from "../config.ts";
import { type ClientAddress, isLoopbackUrl, rateLimitSubject } from "../http/client.ts";
import { BadRequest, RateLimited } from "../errors.ts";
import { mailerFor } from "../mail.ts";
import {
  consumeMagicLink,
  countSignInAttempt,
  createMagicLink,
  MAGIC_LINK_TTL_MS,
  reserveSignInMail,
} from "../db/sessions.ts";
import { findOrCreateUserByEmail, normalizeEmail } from "../db/users.ts";
import { safeNext, startSession } from "./session.ts";
import { configSecretBox } from "../secret_box.ts";

// Enough for typos and a resend or two; a script hammering one inbox or from one address stops.
export const SIGNIN_LIMITS = {
  /** Requests for one address from one client: someone retyping, not someone hammering. */
  perEmail: { limit: 5, windowMs: 15 * 60_000 },
  perIp: { limit: 20, windowMs: 15 * 60_000 },
  /**
   * Mails to one address, whoever asks: none while its last link is still valid (that link keeps
   * working, so requests from elsewhere cannot lock the owner out), and at most `perDay`.
   */
  mail: { cooldownMs: MAGIC_LINK_TTL_MS, perDay: 10 },
  /** GitHub/Google sign-in starts per client: each one stores a state record for 10 minutes. */
  oauthPerIp: { limit: 30, windowMs: 15 * 60_000 },
};

export class EmailSignInUnavailable extends BadRequest {
  constructor() {
    super("Email sign-in is not configured on this server", "email", "email_unavailable");
  }
}

function secondsToWindowEnd(windowMs: number, nowMs: number): number {
  return Math.ceil(((Math.floor(nowMs / windowMs) + 1) * windowMs - nowMs) / 1000);
}

/** Whether the email form can be offered at all: SMTP, or the development log fallback. */
export function emailSignInAvailable(services: Services): boolean {
  return mailerFor(services.config).configured || !services.config.production;
}

/**
 * Whether the page may show a development sign-in link: in development, with PUBLIC_URL on this
 * machine (localhost, 127.x, [::1]) and a request from this machine that no proxy relayed.
 * Anywhere else the link would let whoever reaches the server sign in as anyone.
 */
export function mayShowDevLink(config: Config, client: ClientAddress): boolean {
  return config.APP_ENV === "development" && client.local && isLoopbackUrl(config.publicUrl);
}

/**
 * Sends a single-use sign-in link. The answer never says whether the address has an account.
 * Without SMTP outside production the link is logged, and returned so the page can show it
 * only when `mayShowDevLink` (`deno task start` on localhost works with no mail server).
 */
export async function requestMagicLink(
  services: Services,
  input: { email: string; next?: string | null; client: ClientAddress },
): Promise<{ devLink: string | null }> {
  const { config, kv, log } = services;
  const email = normalizeEmail(input.email);
  const nowMs = services.now();
  const ip = input.client.ip;
  const limits = [
    ["ip", rateLimitSubject(ip), SIGNIN_LIMITS.perIp],
    ["email_client", `${email} ${rateLimitSubject(ip)}`, SIGNIN_LIMITS.perEmail],
  ] as const;
  for (const [scope, subject, limit] of limits) {
    const r = await countSignInAttempt(kv, scope, subject, { ...limit, nowMs });
    if (!r.allowed) {
      // Only the log says which limit it was; the answer (Retry-After included) is the same
      // either way, so it tells nobody whether an address is being tried from elsewhere.
      log("warn", "sign-in rate limited", { scope, ip });
      const retryAfter = Math.max(
        ...limits.map(([, , l]) => secondsToWindowEnd(l.windowMs, nowMs)),
      );
      throw new RateLimited(retryAfter, {});
    }
  }
  if (!await reserveSignInMail(kv, email, { ...SIGNIN_LIMITS.mail, nowMs })) {
    // The same answer as a sent mail: the address's last link still works for its owner.
    log(
      "info",
      "sign-in mail not sent: the address's last link is still valid or its daily cap is reached",
    );
    return { devLink: null };
  }
  // Sealed at rest: `next` may hold an invitation link, whose token is a secret.
  const next = await configSecretBox(config).seal(safeNext(input.next));
  const token = await createMagicLink(kv, { email, next }, nowMs);
  const link = `${config.publicUrl}/auth/magic?token=${token}`;
  const mailer = mailerFor(config);
  if (mailer.configured) {
    await mailer.send({
      to: email,
      subject: "Your Pipevideo sign-in link",
      text: `Sign in to Pipevideo:\n\n${link}\n\n` +
        `The link works once and expires in 15 minutes. ` +
        `If you did not ask for it, ignore this email.\n`,
      html: `<p>Sign in to Pipevideo:</p><p><a href="${link}">Sign in</a></p>` +
        `<p>The link works once and expires in 15 minutes. ` +
        `If you did not ask for it, ignore this email.</p>`,
    });
    return { devLink: null };
  }
  if (config.production) throw new EmailSignInUnavailable();
  const shown = mayShowDevLink(config, input.client);
  log("info", "magic sign-in link (no SMTP_URL set)", { email, link, shown_on_page: shown });
  return { devLink: shown ? link : null };
}

/** Uses a magic link: the user (created on first sign-in) gets a fresh session. */
export async function completeMagicLink(
  services: Services,
  req: Request,
  token: string,
): Promise<{ setCookie: string; next: string }> {
  const nowMs = services.now();
  const link = await consumeMagicLink(services.kv, token, nowMs);
  if (!link) {
    throw new BadRequest(
      "This sign-in link has expired or was already used. Ask for a new one.",
      "token",
      "invalid_link",
    );
  }
  const user = await findOrCreateUserByEmail(services.kv, { email: link.email }, nowMs);
  const { setCookie } = await startSession(services.kv, services.config, req, user.id, nowMs);
  // Links made before a tightening of safeNext are still judged by today's rule.
  return { setCookie, next: safeNext(await configSecretBox(services.config).open(link.next)) };
}
