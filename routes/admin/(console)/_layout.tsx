import { define } from "../../../utils.ts";

const NAV = [
  { href: "/admin", label: "Organizations" },
  { href: "/admin/generations", label: "Generations" },
  { href: "/admin/jobs", label: "Jobs" },
  { href: "/admin/routes", label: "Routes" },
];

/** The operator console's shell: the dashboard's look, the operator's sections, sign-out. */
export default define.page(function ConsoleLayout({ Component, state, url }) {
  const current = (href: string) =>
    href === "/admin"
      ? (url.pathname === "/admin" || url.pathname.startsWith("/admin/orgs") ? "page" : undefined)
      : url.pathname.startsWith(href)
      ? "page"
      : undefined;
  return (
    <div class="dashboard">
      <header class="app-header">
        <div class="container app-header-row">
          <a class="brand" href="/admin">
            <span class="brand-mark" aria-hidden="true">▶</span> Pipevideo operator console
          </a>
          <div class="app-header-tools">
            <form method="post" action="/admin/logout" class="inline-form">
              <input type="hidden" name="csrf" value={state.operator?.csrf ?? ""} />
              <button type="submit" class="button">Sign out</button>
            </form>
          </div>
        </div>
        <nav class="container app-nav" aria-label="Operator console">
          {NAV.map((n) => (
            <a key={n.href} href={n.href} aria-current={current(n.href)}>{n.label}</a>
          ))}
        </nav>
      </header>
      <main id="main" class="container app-main">
        <Component />
      </main>
    </div>
  );
});
