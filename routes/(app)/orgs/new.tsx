import { page } from "fresh";
import { define } from "../../../utils.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { createOrgAndSwitch } from "../../../lib/auth/orgs.ts";
import { billingMode } from "../../../lib/billing/stripe.ts";
import { addDevelopmentCredits } from "../../../lib/billing/topup.ts";

const DEVELOPMENT_STARTING_CENTS = 500;
import { MAX_ORG_NAME } from "../../../lib/db/memberships.ts";
import { OrgNameForm } from "../../../lib/dashboard/org_name.ts";
import { Field, fieldAria, Flash, PageHeader } from "../../../components/ui.tsx";
import FreshOnBack from "../../../islands/FreshOnBack.tsx";

const Body = OrgNameForm;

interface Data {
  name: string;
  error: string | null;
  first: boolean;
}

export const handler = define.handlers<Data>({
  GET(ctx) {
    return page({ name: "", error: null, first: !ctx.state.org });
  },
  async POST(ctx) {
    const form = await readFormObject(ctx.req);
    const parsed = Body.safeParse(form);
    if (!parsed.success) {
      return page({
        name: String(form.name ?? ""),
        error: parsed.error.issues[0].message,
        first: !ctx.state.org,
      }, { status: 400 });
    }
    const { services } = ctx.state;
    const org = await createOrgAndSwitch(services, ctx.req, ctx.state.user!.id, parsed.data.name);
    // In development a new organization starts with credits, so the first run works at once.
    if (billingMode(services.config) === "development") {
      await addDevelopmentCredits(services, org.id, DEVELOPMENT_STARTING_CENTS);
    }
    return ctx.redirect("/playground", 303);
  },
});

export default define.page<unknown, Data>(function NewOrg({ data, state }) {
  return (
    <div class="narrow">
      <FreshOnBack />
      {state.org && (
        // Back after creating one lands here: say where they are rather than ask again.
        <Flash kind="info">
          <span data-testid="current-org">
            You are in <strong>{state.org.name}</strong>.{" "}
            <a href="/playground">Go to its Playground</a>, or create another organization below.
          </span>
        </Flash>
      )}
      <PageHeader
        title={data.first ? "Create your organization" : "New organization"}
        description="An organization holds API keys, credits and usage. You can invite your team later."
      />
      <form method="post" action="/orgs/new" class="card" novalidate>
        <Field id="name" label="Organization name" error={data.error}>
          <input
            {...fieldAria("name", data.error)}
            name="name"
            required
            maxlength={MAX_ORG_NAME}
            autocomplete="organization"
            value={data.name}
            autofocus
          />
        </Field>
        <button type="submit" class="button primary">Create organization</button>
      </form>
      {data.first && (
        <p class="muted">
          Were you invited? Open the invitation link you received to join that organization instead.
        </p>
      )}
    </div>
  );
});
