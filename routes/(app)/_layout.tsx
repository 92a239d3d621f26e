import { define } from "../../utils.ts";

/** The dashboard's main area; its header is the one every signed-in page shows (routes/_app.tsx). */
export default define.page(function DashboardLayout({ Component }) {
  return (
    <div class="dashboard">
      <main id="main" class="container app-main">
        <Component />
      </main>
    </div>
  );
});
