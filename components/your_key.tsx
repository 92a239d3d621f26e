import type { State } from "../utils.ts";
import { listApiKeys } from "../lib/db/apikeys.ts";

export interface KeyHint {
  name: string;
  prefix: string;
}

/** The signed-in org's newest live key, by name and prefix only: the secret is never kept. */
export async function keyHintFor(state: State): Promise<KeyHint | null> {
  if (!state.org) return null;
  const keys = await listApiKeys(state.services.kv, state.org.id);
  const key = keys.filter((k) => !k.revoked_at).sort((a, b) => b.created_at - a.created_at)[0];
  return key ? { name: key.name, prefix: key.prefix } : null;
}

/** Where a signed-in reader's key goes in the snippets below, without ever showing it. */
export function YourKey(props: { hint: KeyHint | null; signedIn: boolean }) {
  if (!props.signedIn) return null;
  return (
    <p class="flash flash-info your-key" data-testid="your-key">
      {props.hint
        ? (
          <>
            Your newest key is “{props.hint.name}” (
            <code data-testid="key-prefix">{props.hint.prefix}…</code>
            ). Set it once in your shell, <code>export PIPEVIDEO_KEY=…</code>{" "}
            with the full key shown when you created it, and the snippets below run as they are.
            Lost it? Create another on <a href="/keys">API keys</a>.
          </>
        )
        : (
          <>
            Create a key on <a href="/keys">API keys</a>, then <code>export PIPEVIDEO_KEY=…</code>
            {" "}
            with it: the snippets below run as they are.
          </>
        )}
    </p>
  );
}
