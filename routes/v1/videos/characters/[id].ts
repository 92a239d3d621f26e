import { define } from "../../../../utils.ts";
import { unsupportedVideoOperation } from "../../../../lib/api/openai.ts";

/** OpenAI's video characters: no route of this gateway honours them (404 unsupported). */
export const handler = define.handlers(() => unsupportedVideoOperation("Video characters"));
