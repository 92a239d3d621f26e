import { createDefine } from "fresh";
import type { Services } from "./lib/services.ts";

/** What every request carries through middleware to its route (Fresh's `ctx.state`). */
export interface State {
  services: Services;
  requestId: string;
}

export const define = createDefine<State>();
