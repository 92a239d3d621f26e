import { page } from "fresh";
import { z } from "zod";
import { define } from "../../utils.ts";
import { readFormObject } from "../../lib/http/form.ts";
import { completeMagicLink } from "../../lib/auth/signin.ts";
import { peekMagicLink } from "../../lib/db/sessions.ts";
import { Flash } from "../../components/ui.tsx";

interface Data {
  token: string;
  email: string | null;
}

const Body = z.object({ token: z.string().max(200) });

/**
 * GET shows who is signing in and a button; only the POST uses the link. Mail scanners that
 * open links therefore cannot burn a single-use link before its owner clicks it.
 */
export const handler = define.handlers<Data>({
  async GET(ctx) {
    const token = ctx.url.searchParams.get("token") ?? "";
    const link = await peekMagicLink(ctx.state.services.kv, token, ctx.state.services.now());
    return page({ token, email: link?.email ?? null }, { status: link ? 200 : 400 });
  },
  async POST(ctx) {
    const parsed = Body.safeParse(await readFormObject(ctx.req));
    const { setCookie, next } = await completeMagicLink(
      ctx.state.services,
      ctx.req,
      parsed.success ? parsed.data.token : "",
    );
    return new Response(null, {
      status: 303,
      headers: { Location: next, "Set-Cookie": setCookie },
    });
  },
});

export default define.page<unknown, Data>(function MagicLink({ data }) {
  return (
    <main id="main" class="container auth-page">
      <div class="card auth-card">
        {data.email
          ? (
            <>
              <h1>Sign in</h1>
              <p>
                Continue as <strong>{data.email}</strong>?
              </p>
              <form method="post" action="/auth/magic">
                <input type="hidden" name="token" value={data.token} />
                <button type="submit" class="button primary wide">Sign in</button>
              </form>
            </>
          )
          : (
            <>
              <h1>This link no longer works</h1>
              <Flash kind="error">
                Sign-in links work once and expire after 15 minutes.
              </Flash>
              <p>
                <a class="button primary" href="/login">Get a new link</a>
              </p>
            </>
          )}
      </div>
    </main>
  );
});
