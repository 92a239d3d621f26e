import { page } from "fresh";
import { define } from "../../../utils.ts";
import { jobBoard, type JobRow } from "../../../lib/admin/console.ts";
import { retryDeadJob } from "../../../lib/db/jobs.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { noticeFor } from "../../../lib/http/notice.ts";
import { formatDateTimeSeconds } from "../../../lib/format.ts";
import { EmptyState, Flash, PageHeader } from "../../../components/ui.tsx";

interface Data {
  jobs: JobRow[];
  notice: string | null;
  error: string | null;
  csrf: string;
}

const NOTICES: Record<string, string> = {
  retried: "The job is due again with its attempts reset.",
};

/** Background jobs: due, running, scheduled and dead; a dead one can be retried. */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const { kv, now } = ctx.state.services;
    return page({
      jobs: await jobBoard(kv, now()),
      notice: noticeFor(NOTICES, ctx.url.searchParams.get("m")),
      error: null,
      csrf: ctx.state.operator!.csrf,
    });
  },
  async POST(ctx) {
    const { kv, now } = ctx.state.services;
    const { type, id } = await readFormObject(ctx.req);
    // The same function as POST /admin/v1/jobs/retry.
    if (
      typeof type === "string" && typeof id === "string" && await retryDeadJob(kv, type, id, now())
    ) {
      return ctx.redirect("/admin/jobs?m=retried", 303);
    }
    return page({
      jobs: await jobBoard(kv, now()),
      notice: null,
      error: "No dead job with this type and id (already retried?)",
      csrf: ctx.state.operator!.csrf,
    }, { status: 404 });
  },
});

export default define.page<unknown, Data>(function Jobs({ data }) {
  return (
    <>
      <PageHeader
        title="Background jobs"
        description="Dead jobs first, then running, due (waiting for a slot) and scheduled."
      />
      {data.notice && <Flash kind="success">{data.notice}</Flash>}
      {data.error && <Flash kind="error">{data.error}</Flash>}
      {data.jobs.length === 0
        ? <EmptyState title="No background jobs" />
        : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Background jobs">
            <table class="data-table" data-testid="jobs">
              <thead>
                <tr>
                  <th scope="col">State</th>
                  <th scope="col">Type</th>
                  <th scope="col">Id</th>
                  <th scope="col">Organization</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Due / failed</th>
                  <th scope="col">Last error</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.jobs.map((j) => (
                  <tr key={`${j.state}:${j.type}:${j.id}`}>
                    <td>
                      <span class={`badge badge-${j.state === "dead" ? "revoked" : "active"}`}>
                        {j.state}
                      </span>
                    </td>
                    <td>{j.type}</td>
                    <td>
                      <code>{j.id}</code>
                    </td>
                    <td>{j.org ? <a href={`/admin/orgs/${j.org}`}>{j.org}</a> : "—"}</td>
                    <td>{j.attempts}</td>
                    <td>{formatDateTimeSeconds(j.state === "dead" ? j.failed_at : j.due_at)}</td>
                    <td>{j.last_error ?? ""}</td>
                    <td class="actions-cell">
                      {j.state === "dead" && (
                        <form method="post" class="inline-form">
                          <input type="hidden" name="csrf" value={data.csrf} />
                          <input type="hidden" name="type" value={j.type} />
                          <input type="hidden" name="id" value={j.id} />
                          <button type="submit" class="button">Retry</button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </>
  );
});
