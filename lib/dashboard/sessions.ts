import Bowser from "bowser";
import { z } from "zod";
import { listUserSessions } from "../db/sessions.ts";

/** One row of "Your sessions". */
export interface SessionView {
  id: string;
  device: string;
  created_at: number;
  last_seen_at: number;
  current: boolean;
}

/** "Chrome on Linux", "Safari on iOS (mobile)", or "Unknown device" when nothing was recorded. */
export function describeDevice(userAgent: string | null | undefined): string {
  if (!userAgent) return "Unknown device";
  const { browser, os, platform } = Bowser.parse(userAgent);
  if (!browser.name && !os.name) return userAgent.slice(0, 60);
  const name = [browser.name, os.name].filter(Boolean).join(" on ");
  return platform.type && platform.type !== "desktop" ? `${name} (${platform.type})` : name;
}

/** The signed-in user's sessions, this one marked and listed first. */
export async function loadSessionViews(
  kv: Deno.Kv,
  userId: string,
  currentId: string,
  nowMs: number,
): Promise<SessionView[]> {
  const views = (await listUserSessions(kv, userId, nowMs)).map((s) => ({
    id: s.id,
    device: describeDevice(s.user_agent),
    created_at: s.created_at,
    last_seen_at: s.last_seen_at,
    current: s.id === currentId,
  }));
  return views.sort((a, b) => Number(b.current) - Number(a.current));
}

/** What the sessions forms say after their 303, on /settings and /settings/account. */
export const SESSION_MESSAGES: Record<string, string> = {
  signed_out_one: "That session was signed out.",
  signed_out_others: "All your other sessions were signed out.",
};

/** The sessions forms' POST body (to /settings/account); `back` is where to return. */
export const SessionsForm = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("one"),
    session_id: z.string().min(1).max(64),
    back: z.enum(["settings", "account"]).default("account"),
  }),
  z.object({
    intent: z.literal("others"),
    back: z.enum(["settings", "account"]).default("account"),
  }),
  z.object({ intent: z.literal("everywhere") }),
]);
