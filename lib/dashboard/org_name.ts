import { z } from "zod";
import { MAX_ORG_NAME } from "../db/memberships.ts";

/** The organization-name form, for creating and for renaming one. */
export const OrgNameForm = z.object({
  name: z.string().trim().min(1, "Give the organization a name")
    .max(MAX_ORG_NAME, `Keep the name under ${MAX_ORG_NAME} characters`),
});
