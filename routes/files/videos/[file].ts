import { define } from "../../../utils.ts";
import { backendFor, verifyVideoSignature } from "../../../lib/storage/mod.ts";
import { Forbidden } from "../../../lib/errors.ts";

/**
 * A stored video behind a signed, expiring URL (`/files/videos/{genId}.mp4?exp=&sig=`): no API
 * key needed; a bad or expired signature is 403 JSON. With local storage the bytes (and ranges)
 * come from disk; with s3 the answer is a 302 to a short-lived presigned URL of the object.
 */
export const handler = define.handlers({
  async GET(ctx) {
    const { services } = ctx.state;
    const genId = ctx.params.file.replace(/\.mp4$/, "");
    const q = ctx.url.searchParams;
    const ok = ctx.params.file.endsWith(".mp4") && await verifyVideoSignature(
      services.config.secretKey,
      genId,
      q.get("exp"),
      q.get("sig"),
      Math.floor(services.now() / 1000),
    );
    // routes/_error.tsx answers a page to a browser, JSON to a program.
    if (!ok) throw new Forbidden("This video link is invalid or has expired");
    return await backendFor(services.config).serve(ctx.req, genId);
  },
});
