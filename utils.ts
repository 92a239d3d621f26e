import { createDefine } from "fresh";
import type { Services } from "./lib/services.ts";
import type { FlashOwner } from "./lib/db/flash.ts";

export type Role = "owner" | "admin" | "member";

/** What every request carries through middleware to its route (Fresh's `ctx.state`). */
export interface State {
  services: Services;
  requestId: string;
  /** Dashboard: the signed-in user and their session (set by the session middleware). */
  user?: { id: string; email: string; name: string | null };
  sessionId?: string;
  /** Dashboard: who may read a one-time reveal (lib/db/flash.ts); the token is the cookie's. */
  flashOwner?: FlashOwner;
  /** Dashboard: the organization being viewed and the user's role in it. */
  org?: { id: string; name: string };
  role?: Role;
  /** Dashboard: what the shell shows on every page (set by routes/(app)/_middleware.ts). */
  dashboard?: { orgs: { id: string; name: string; role: Role }[]; balanceCents: number };
  /** Operator console (/admin): the operator session, set by routes/admin/(console)/_middleware.ts. */
  operator?: { sessionId: string; csrf: string };
  /** API: the key that authenticated this /v1 request and its organization id. */
  apiKey?: { id: string; orgId: string };
  /** API: records read together with the key (see routes/v1/_middleware.ts), in request order. */
  prefetched?: Deno.KvEntryMaybe<unknown>[];
}

export const define = createDefine<State>();
