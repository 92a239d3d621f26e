import { define } from "../../utils.ts";
import { formatCents } from "../../components/format.ts";

const NAV = [
  { href: "/playground", label: "Playground" },
  { href: "/usage", label: "Usage" },
  { href: "/keys", label: "Keys" },
  { href: "/models", label: "Models" },
  { href: "/billing", label: "Billing" },
  { href: "/webhooks", label: "Webhooks" },
  { href: "/docs", label: "Docs" },
];

/** The dashboard shell: brand, sections, org switcher, balance and the user menu. */
export default define.page(function DashboardLayout({ Component, state, url }) {
  const d = state.dashboard;
  const current = (href: string) =>
    url.pathname === href || url.pathname.startsWith(href + "/") ? "page" : undefined;
  return (
    <div class="dashboard">
      <header class="app-header">
        <div class="container app-header-row">
          <a class="brand" href="/playground">
            <span class="brand-mark" aria-hidden="true">▶</span> Pipevideo
          </a>
          <div class="app-header-tools">
            {state.org && d && (
              <>
                <form method="post" action="/orgs/switch" class="org-switcher">
                  <label for="org-switch" class="visually-hidden">Organization</label>
                  <select id="org-switch" name="org_id">
                    {d.orgs.map((o) => (
                      <option key={o.id} value={o.id} selected={o.id === state.org!.id}>
                        {o.name}
                      </option>
                    ))}
                  </select>
                  <input type="hidden" name="next" value={url.pathname} />
                  <button type="submit" class="button small">Switch</button>
                </form>
                <a class="balance" href="/billing" title="Credit balance">
                  <span class="visually-hidden">Credit balance:</span>
                  <span data-testid="balance">{formatCents(d.balanceCents)}</span>
                </a>
              </>
            )}
            <details class="user-menu">
              <summary>
                <span class="avatar" aria-hidden="true">
                  {(state.user?.name ?? state.user?.email ?? "?").slice(0, 1).toUpperCase()}
                </span>
                <span class="user-email">{state.user?.email}</span>
              </summary>
              <div class="menu" role="group" aria-label="Account">
                {state.role && <p class="menu-note">Role: {state.role}</p>}
                <a href="/orgs/new">New organization</a>
                {state.org && <a href="/settings/members">Members</a>}
                <a href="/settings/account">Account &amp; sessions</a>
                <form method="post" action="/logout">
                  <button type="submit" class="button small">Sign out</button>
                </form>
              </div>
            </details>
          </div>
        </div>
        {state.org && (
          <nav class="container app-nav" aria-label="Dashboard">
            {NAV.map((n) => (
              <a key={n.href} href={n.href} aria-current={current(n.href)}>{n.label}</a>
            ))}
          </nav>
        )}
      </header>
      <main class="container app-main">
        <Component />
      </main>
    </div>
  );
});
