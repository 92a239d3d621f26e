import { z } from "zod";
import { define } from "../../../utils.ts";
import { readFormObject } from "../../../lib/http/form.ts";
import { requireRole } from "../../../lib/auth/roles.ts";
import { parseWith } from "../../../lib/http/json.ts";
import { webhookDeps } from "../../../lib/webhooks/notify.ts";
import { resend } from "../../../lib/webhooks/manage.ts";

const ResendForm = z.object({ delivery_id: z.string().min(1).max(100) });

/** Sends a finished delivery again (same webhook-id), then back to where it is listed. */
export const handler = define.handlers({
  async POST(ctx) {
    requireRole(ctx.state, "admin");
    const { delivery_id } = parseWith(ResendForm, await readFormObject(ctx.req));
    const d = await resend(webhookDeps(ctx.state.services), ctx.state.org!.id, delivery_id);
    const back = d.endpoint_id ? `/webhooks/${d.endpoint_id}#${d.id}` : "/webhooks";
    return ctx.redirect(back, 303);
  },
});
