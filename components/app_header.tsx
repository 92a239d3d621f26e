import type { State } from "../utils.ts";
import { formatCents } from "../lib/format.ts";
import OrgSwitcher from "../islands/OrgSwitcher.tsx";
import UserMenu from "../islands/UserMenu.tsx";
import LocalTimes from "../islands/LocalTimes.tsx";

const NAV = [
  { href: "/playground", label: "Playground" },
  { href: "/usage", label: "Usage" },
  { href: "/keys", label: "Keys" },
  { href: "/models", label: "Models" },
  { href: "/billing", label: "Billing" },
  { href: "/webhooks", label: "Webhooks" },
  { href: "/docs", label: "Docs" },
  { href: "/settings", label: "Settings" },
];

/**
 * The header of every page a signed-in user sees, dashboard or public: brand, org switcher,
 * balance, user menu and the sections.
 */
export function AppHeader({ state, url }: { state: State; url: URL }) {
  const d = state.dashboard;
  const current = (href: string) =>
    url.pathname === href || url.pathname.startsWith(href + "/") ? "page" : undefined;
  return (
    <header class="app-header">
      <div class="container app-header-row">
        <a class="brand" href="/playground" data-testid="dashboard-link">
          <span class="brand-mark" aria-hidden="true">▶</span> Pipevideo
        </a>
        <div class="app-header-tools">
          {state.org && d && (
            <>
              <OrgSwitcher
                orgs={d.orgs.map((o) => ({ id: o.id, name: o.name }))}
                current={state.org.id}
                next={url.pathname}
              />
              <a class="balance" href="/billing" title="Credit balance">
                <span class="visually-hidden">Credit balance:</span>
                <span data-testid="balance">{formatCents(d.balanceCents)}</span>
              </a>
            </>
          )}
          <UserMenu
            email={state.user?.email ?? ""}
            initial={(state.user?.name ?? state.user?.email ?? "?").slice(0, 1).toUpperCase()}
            role={state.role ?? null}
            hasOrg={Boolean(state.org)}
          />
          <LocalTimes />
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
  );
}
