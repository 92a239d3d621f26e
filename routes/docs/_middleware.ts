import { define } from "../../utils.ts";
import { publicShell } from "../../lib/dashboard/shell.ts";

/** Signed in, the public pages show the dashboard's header (who, which org, the balance). */
export const handler = define.middleware(publicShell);
