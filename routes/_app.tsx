import { define } from "../utils.ts";
import { fingerprinted } from "../lib/fresh/static.ts";
import { fromFileUrl } from "../lib/fresh/paths.ts";
import { AppHeader } from "../components/app_header.tsx";

const STATIC_ROOT = fromFileUrl(new URL("../static", import.meta.url));

export default define.page(function App({ Component, state, url }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Pipevideo</title>
        <link rel="stylesheet" href={fingerprinted(STATIC_ROOT, "/styles.css")} />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        {
          /* Signed in, every page (dashboard or public) shows who, which org and the balance; the
            operator console brings its own header. */
        }
        {state.operator
          ? null
          : state.dashboard
          ? <AppHeader state={state} url={url} />
          : (
            <header class="site-header">
              <div class="container header-row">
                <a class="brand" href="/">
                  <span class="brand-mark" aria-hidden="true">▶</span> Pipevideo
                </a>
                <nav aria-label="Main">
                  <a href="/models">Models</a>
                  <a href="/docs">Docs</a>
                </nav>
              </div>
            </header>
          )}
        <Component />
      </body>
    </html>
  );
});
