import { define } from "../../../utils.ts";
import { unsupportedVideoOperation } from "../../../lib/api/openai.ts";

/** OpenAI's video edits: no route of this gateway honours it (404 unsupported). */
export const handler = define.handlers(() => unsupportedVideoOperation("Video edits"));
