import CopyButton from "../../islands/CopyButton.tsx";
/** The /docs section on spend controls: key limits, budgets, GET /v1/key, balance.low. */
export function SpendDocs(props: { publicUrl: string }) {
  const keyCurl = `curl -s ${props.publicUrl}/v1/key -H "Authorization: Bearer $PIPEVIDEO_KEY"
# {"data":{"id":"key_…","name":"ci","label":"pv_…","limit_cents":5000,"limit_reset":"daily",
#   "spent_cents":1200,"limit_remaining_cents":3800,"resets_at":1764460800,"expires_at":null,
#   "usage":{"today":{…},"period":{…},"all_time":{"spent_cents":9100,"requests":412}}}}`;
  const refused = `{
  "message": "This API key's spend limit is 5000 cents and 4980 cents are spent; this request costs 40 cents. The limit resets at 2026-11-30T00:00:00.000Z.",
  "error": { "type": "billing_error", "code": "key_limit_exceeded", "param": null },
  "data": { "limit_cents": 5000, "spent_cents": 4980, "resets_at": 1764460800 }
}`;
  const event = `{ "type": "balance.low", "timestamp": "2026-11-29T10:04:00.000Z",
  "data": { "organization_id": "org_…", "balance_cents": 480, "threshold_cents": 500 } }`;
  return (
    <section id="spend">
      <h2>Spend controls</h2>
      <p>
        A key may carry a <strong>spend limit</strong> in cents that resets <code>never</code>,{" "}
        <code>daily</code>, <code>weekly</code> (Mondays) or{" "}
        <code>monthly</code>, at UTC boundaries (set it on the key's page, or with the admin API's
        {" "}
        <code>limit_cents</code> and <code>limit_reset</code>). An organization may set a{" "}
        <strong>monthly budget</strong>{" "}
        on Billing → Spend controls. A request whose price would go past either is refused with{" "}
        <code>402</code> and code <code>key_limit_exceeded</code> or <code>budget_exceeded</code>;
        {" "}
        nothing is created or charged. With{" "}
        <code>models</code>, the most expensive candidate counts until the generation ends, then
        only what ran; refunds give the allowance back.
      </p>
      <figure class="docs-code">
        <figcaption>
          402 over a key's limit <CopyButton value={refused} label="Copy" />
        </figcaption>
        <pre tabIndex={0}><code>{refused}</code></pre>
      </figure>
      <p>
        A script can check its own allowance with <code>GET /v1/key</code>{" "}
        (OpenRouter's convention, in cents), and <code>GET /v1/usage</code> lists{" "}
        <code>by_key</code>: each key's spend and requests today, this period and all time.
      </p>
      <figure class="docs-code">
        <figcaption>
          The calling key (curl) <CopyButton value={keyCurl} label="Copy" />
        </figcaption>
        <pre tabIndex={0}><code>{keyCurl}</code></pre>
      </figure>
      <p>
        With a{" "}
        <strong>low-balance alert</strong>, the charge that takes the balance below the threshold
        sends one email to the organization's admins and one <code>balance.low</code>{" "}
        webhook event to its endpoints (signed like every event); it fires again only after the
        balance has gone back above. <strong>Automatic top-up</strong>{" "}
        charges a saved card when the balance falls below an amount you choose, at most a few times
        a day; a declined card turns it off and emails the admins.
      </p>
      <figure class="docs-code">
        <figcaption>
          balance.low payload <CopyButton value={event} label="Copy" />
        </figcaption>
        <pre tabIndex={0}><code>{event}</code></pre>
      </figure>
    </section>
  );
}
