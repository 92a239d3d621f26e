import assert from "node:assert/strict";
import { OutboundRequestError } from "../net/ssrf.ts";
import { assertWebhookUrlAcceptable } from "./url_policy.ts";

const refused = (url: string, allowPrivate: boolean) => {
  try {
    assertWebhookUrlAcceptable(url, { allowPrivate });
    return null;
  } catch (err) {
    assert.ok(err instanceof OutboundRequestError, String(err));
    assert.equal(err.param, "webhook_url");
    return err.reason;
  }
};

Deno.test("webhook_url at submission: schemes everywhere, private literals only in production", () => {
  for (const url of ["ftp://a.example/x", "javascript:alert(1)", "file:///etc/passwd", "nope"]) {
    assert.equal(refused(url, true), "unsupported_url", url);
    assert.equal(refused(url, false), "unsupported_url", url);
  }
  for (
    const url of [
      "http://localhost/x",
      "http://Foo.LocalHost./x",
      "http://127.1/x",
      "http://0x7f000001/x",
      "http://10.0.0.5/x",
      "http://172.16.3.4/x",
      "http://100.64.0.1/x",
      "http://169.254.169.254/x",
      "http://[::1]/x",
      "http://[fd00::1]/x",
      "http://[fe80::1]/x",
      "http://[::ffff:10.0.0.1]/x",
    ]
  ) {
    assert.equal(refused(url, false), "unsafe_url", url);
    assert.equal(refused(url, true), null, `${url} is fine in development`);
  }
  for (const url of ["https://hooks.example.com/x", "http://8.8.8.8/x", "http://[2606:4700::1]/"]) {
    assert.equal(refused(url, false), null, url);
  }
});
