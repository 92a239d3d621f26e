import { Conflict } from "../errors.ts";
import { newId } from "../ids.ts";
import { singleLineName } from "../names.ts";

/**
 * Users, matched by verified email across sign-in methods. Keys: ["users", id],
 * ["user_by_email", email] and ["user_by_identity", provider, subject] for OAuth accounts.
 */
export interface User {
  id: string;
  email: string;
  name: string | null;
  created_at: number; // ms
}

export type IdentityProvider = "github" | "google";

const userKey = (userId: string): Deno.KvKey => ["users", userId];
const byEmailKey = (email: string): Deno.KvKey => ["user_by_email", email];
const byIdentityKey = (provider: IdentityProvider, subject: string): Deno.KvKey => [
  "user_by_identity",
  provider,
  subject,
];

/** Emails compare case-insensitively and without surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function getUser(kv: Deno.Kv, userId: string): Promise<User | null> {
  return (await kv.get<User>(userKey(userId))).value;
}

export async function getUserByEmail(kv: Deno.Kv, email: string): Promise<User | null> {
  const id = (await kv.get<string>(byEmailKey(normalizeEmail(email)))).value;
  return id ? await getUser(kv, id) : null;
}

export async function createUser(
  kv: Deno.Kv,
  input: { email: string; name?: string | null },
  nowMs = Date.now(),
): Promise<User> {
  const user: User = {
    id: newId("usr", nowMs),
    email: normalizeEmail(input.email),
    name: singleLineName(input.name ?? "") || null,
    created_at: nowMs,
  };
  const res = await kv.atomic()
    .check({ key: byEmailKey(user.email), versionstamp: null })
    .set(userKey(user.id), user)
    .set(byEmailKey(user.email), user.id)
    .commit();
  if (!res.ok) throw new Conflict(`A user with email ${user.email} already exists`);
  return user;
}

/** The user with this (verified) email, created on first sign-in; concurrent first sign-ins agree. */
export async function findOrCreateUserByEmail(
  kv: Deno.Kv,
  input: { email: string; name?: string | null },
  nowMs = Date.now(),
): Promise<User> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await getUserByEmail(kv, input.email);
    if (existing) {
      if (!existing.name && singleLineName(input.name ?? "")) {
        const named = { ...existing, name: singleLineName(input.name!) };
        await kv.set(userKey(existing.id), named);
        return named;
      }
      return existing;
    }
    try {
      return await createUser(kv, input, nowMs);
    } catch (err) {
      if (!(err instanceof Conflict)) throw err;
    }
  }
  throw new Error(`could not create user ${input.email}`);
}

/** Links an OAuth account to a user so a later sign-in finds it even if the email changes. */
export async function linkIdentity(
  kv: Deno.Kv,
  provider: IdentityProvider,
  subject: string,
  userId: string,
): Promise<void> {
  await kv.set(byIdentityKey(provider, subject), userId);
}

export async function getUserByIdentity(
  kv: Deno.Kv,
  provider: IdentityProvider,
  subject: string,
): Promise<User | null> {
  const id = (await kv.get<string>(byIdentityKey(provider, subject))).value;
  return id ? await getUser(kv, id) : null;
}
