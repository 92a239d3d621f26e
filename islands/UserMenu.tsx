import { useEffect, useRef } from "preact/hooks";

/** The account menu: a <details> that also closes on Escape and on a click outside it. */
export default function UserMenu(
  props: { email: string; initial: string; role: string | null; hasOrg: boolean },
) {
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const close = (focus: boolean) => {
      const d = ref.current;
      if (!d?.open) return;
      d.open = false;
      if (focus) d.querySelector("summary")?.focus();
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && close(true);
    const onClick = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) close(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("click", onClick);
    };
  }, []);
  return (
    <details class="user-menu" ref={ref}>
      <summary>
        <span class="avatar" aria-hidden="true">{props.initial}</span>
        <span class="visually-hidden">Account menu:</span>
        {/* Visually hidden on a phone, but still the button's name. */}
        <span class="user-email">{props.email}</span>
      </summary>
      <div class="menu">
        {props.role && <p class="menu-note">Role: {props.role}</p>}
        <a href="/orgs/new">New organization</a>
        {props.hasOrg && <a href="/settings">Settings</a>}
        <a href="/settings/account">Account &amp; sessions</a>
        <form method="post" action="/logout">
          <button type="submit" class="button small">Sign out</button>
        </form>
      </div>
    </details>
  );
}
