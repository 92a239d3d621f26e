import { HttpError } from "fresh";
import { define } from "../utils.ts";
import { AppError } from "../lib/errors.ts";
import { apiErrorResponse, logIfUnexpected } from "../lib/http/errors.ts";
import { getCookie } from "../lib/auth/cookies.ts";
import { SESSION_COOKIE } from "../lib/auth/session.ts";

// Machine endpoints outside /v1 (which has its own _error) also answer errors in JSON.
const JSON_PATHS = /^\/(admin\/v1|api)\//;
// Links that programs and browsers both open (signed video URLs): a page only for a browser.
const SHARED_PATHS = /^\/files\//;

/** Browsers get a page; programs get API.md's error body. */
export const handler = define.handlers((ctx) => {
  const { requestId, services } = ctx.state;
  const err = ctx.error;
  logIfUnexpected(services.log, err, { request_id: requestId, path: ctx.url.pathname });
  const accept = ctx.req.headers.get("Accept") ?? "";
  const wantsJson = accept.includes("application/json") && !accept.includes("text/html");
  const program = SHARED_PATHS.test(ctx.url.pathname) && !accept.includes("text/html");
  if (wantsJson || program || JSON_PATHS.test(ctx.url.pathname)) {
    return apiErrorResponse(err, requestId);
  }
  const known = err instanceof HttpError || err instanceof AppError;
  const status = known ? err.status : 500;
  // Inside the dashboard the layout already has the <main>; signed in, the way back is the
  // dashboard rather than the marketing page.
  const inDashboard = Boolean(ctx.state.dashboard);
  const signedIn = inDashboard || getCookie(ctx.req, SESSION_COOKIE) !== null;
  const page = (
    <ErrorPage
      status={status}
      message={messageOf(err, status)}
      inDashboard={inDashboard}
      signedIn={signedIn}
    />
  );
  return ctx.render(page, {
    status,
    headers: known ? err.headers : undefined,
  });
});

function messageOf(err: unknown, status: number): string {
  if (status === 404) return "There is nothing at this address.";
  if (status >= 500) return "Something went wrong on our side. Please try again.";
  return (err as Error).message;
}

function ErrorPage(
  props: { status: number; message: string; inDashboard: boolean; signedIn: boolean },
) {
  const body = (
    <>
      <p class="eyebrow">Error {props.status}</p>
      <h1>{props.status === 404 ? "Page not found" : "That did not work"}</h1>
      <p>{props.message}</p>
      <p>
        {props.signedIn
          ? <a class="button" href="/playground">Back to the dashboard</a>
          : <a class="button" href="/">Back to the home page</a>}
      </p>
    </>
  );
  return props.inDashboard
    ? <div class="narrow error-page">{body}</div>
    : <main id="main" class="container narrow error-page">{body}</main>;
}
