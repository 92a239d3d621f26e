import { HttpError } from "fresh";
import { define } from "../utils.ts";
import { AppError } from "../lib/errors.ts";
import { apiErrorResponse, logIfUnexpected } from "../lib/http/errors.ts";

// Machine endpoints outside /v1 (which has its own _error) also answer errors in JSON.
const JSON_PATHS = /^\/(admin|api)\//;

/** Browsers get a page; programs get API.md's error body. */
export const handler = define.handlers((ctx) => {
  const { requestId, services } = ctx.state;
  const err = ctx.error;
  logIfUnexpected(services.log, err, { request_id: requestId, path: ctx.url.pathname });
  const accept = ctx.req.headers.get("Accept") ?? "";
  const wantsJson = accept.includes("application/json") && !accept.includes("text/html");
  if (wantsJson || JSON_PATHS.test(ctx.url.pathname)) return apiErrorResponse(err, requestId);
  const known = err instanceof HttpError || err instanceof AppError;
  const status = known ? err.status : 500;
  return ctx.render(<ErrorPage status={status} message={messageOf(err, status)} />, {
    status,
    headers: known ? err.headers : undefined,
  });
});

function messageOf(err: unknown, status: number): string {
  if (status === 404) return "There is nothing at this address.";
  if (status >= 500) return "Something went wrong on our side. Please try again.";
  return (err as Error).message;
}

function ErrorPage(props: { status: number; message: string }) {
  return (
    <main class="container narrow error-page">
      <p class="eyebrow">Error {props.status}</p>
      <h1>{props.status === 404 ? "Page not found" : "That did not work"}</h1>
      <p>{props.message}</p>
      <p>
        <a class="button" href="/">Back to the home page</a>
      </p>
    </main>
  );
}
