import nodemailer from "nodemailer";
import type { Config } from "./config.ts";
import { singleLineName } from "./names.ts";

/**
 * Outgoing email: sign-in links, invitations, balance alerts, automatic top-ups. Subjects are
 * fixed text and amounts, never user-chosen text (an org name there reads as if Pipevideo said
 * it); user text in a body goes through `plainName`.
 */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  /** False when SMTP_URL is unset: callers fall back to the development notice. */
  readonly configured: boolean;
  send(mail: Mail): Promise<void>;
}

type Transport = ReturnType<typeof nodemailer.createTransport>;
const transports = new Map<string, Transport>();

/** The mailer for this configuration; one pooled SMTP transport per SMTP_URL per process. */
export function mailerFor(config: Config): Mailer {
  const smtpUrl = config.SMTP_URL;
  if (!smtpUrl) {
    return {
      configured: false,
      send() {
        return Promise.reject(new Error("SMTP_URL is not set"));
      },
    };
  }
  let transport = transports.get(smtpUrl);
  if (!transport) {
    transport = nodemailer.createTransport(smtpUrl);
    transports.set(smtpUrl, transport);
  }
  const from = config.MAIL_FROM ?? `Pipevideo <no-reply@${new URL(config.publicUrl).hostname}>`;
  const t = transport;
  return {
    configured: true,
    async send(mail) {
      await t.sendMail({ from, ...mail });
    },
  };
}

/** Escapes text for the HTML part of an email. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * User-chosen text (an org name) for a mail body: one line, and never a link. Mail clients turn
 * whatever looks like a URL, a domain or an address into one, so "https://evil.example/login"
 * in an org name would be a working link in a mail from us; a zero-width space after each
 * ".", ":", "/" and "@" breaks the pattern and stays invisible. Escape it too for HTML.
 */
export function plainName(name: string): string {
  return singleLineName(name).replace(/[.:/@]/g, "$&\u200b");
}
