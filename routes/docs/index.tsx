import { page } from "fresh";
import { define } from "../../utils.ts";
import { buildOpenApiDocument, quickstartSnippets } from "../../lib/openapi.ts";
import { ApiReference } from "../../components/api_reference.tsx";
import { requestSamples } from "../../components/code.ts";
import CodeTabs from "../../islands/CodeTabs.tsx";
import CopyButton from "../../islands/CopyButton.tsx";
import { keyHintFor, YourKey } from "../../components/your_key.tsx";
import { MAX_PROMPT_CHARS } from "../../lib/generations/schema.ts";
import { SpendDocs } from "../../components/spend/SpendDocs.tsx";

export const handler = define.handlers({
  async GET(ctx) {
    const { config } = ctx.state.services;
    return page({
      signedIn: Boolean(ctx.state.user),
      keyHint: await keyHintFor(ctx.state),
      publicUrl: config.publicUrl,
      snippets: quickstartSnippets(config.publicUrl),
      ratePerMinute: config.RATE_LIMIT_PER_MINUTE,
      maxBodyBytes: config.MAX_BODY_BYTES,
      openapi: buildOpenApiDocument(config.publicUrl),
      submitSamples: requestSamples(config.publicUrl, "POST", "/v1/video/generations", {
        model: "local/preview",
        prompt: "A lighthouse at dusk, waves rolling in",
        duration: 4,
      }),
    });
  },
});

const ERRORS: [number, string][] = [
  [
    400,
    "Malformed JSON, failed validation (error.param names the field) or an option the model " +
    "does not support",
  ],
  [401, "Missing, unknown, revoked or expired API key"],
  [
    402,
    "Insufficient credits (code insufficient_credits), over the key's spend limit " +
    "(key_limit_exceeded) or the monthly budget (budget_exceeded): nothing is created or charged",
  ],
  [404, "Unknown id or model, or another organization's resource"],
  [409, "Idempotency key reused with a different body; cancel of a finished generation"],
  [413, "Body too large"],
  [429, "Rate limit: wait Retry-After seconds"],
  [500, "Unexpected; the body never leaks internals. Retry with the same Idempotency-Key"],
];

const SECTIONS = [
  ["quickstart", "Quickstart"],
  ["poll", "Poll for the result"],
  ["javascript", "JavaScript"],
  ["webhooks", "Webhooks"],
  ["errors", "Errors"],
  ["rate-limits", "Rate limits"],
  ["idempotency", "Idempotency"],
  ["spend", "Spend controls"],
  ["reference", "Reference"],
];

function Code(props: { label: string; children: string }) {
  return (
    <figure class="docs-code">
      <figcaption>
        {props.label} <CopyButton value={props.children} label="Copy" />
      </figcaption>
      <pre tabIndex={0}><code>{props.children}</code></pre>
    </figure>
  );
}

export default define.page<typeof handler>(function Docs({ data }) {
  const s = data.snippets;
  return (
    <main id="main" class="container docs">
      <nav class="docs-toc" aria-label="On this page">
        <p class="eyebrow">On this page</p>
        {SECTIONS.map(([id, title]) => <a key={id} href={`#${id}`}>{title}</a>)}
        <a href="/openapi.json">openapi.json</a>
        <a href="/docs/mcp">MCP (AI agents)</a>
      </nav>
      <article class="docs-body">
        <p class="eyebrow">Documentation</p>
        <h1>Generate video with one API</h1>
        <p class="lead">
          Every request goes to <code>{data.publicUrl}</code> with an API key in the{" "}
          <code>Authorization</code>{" "}
          header. Submitting answers at once; poll the generation or let a webhook tell you when the
          video is ready. Credits are charged at submission and a failed or cancelled generation is
          refunded automatically, exactly once.
        </p>

        <section id="quickstart">
          <h2>Quickstart</h2>
          <ol class="docs-steps">
            <li>
              <a href="/login">Sign in</a>, add credits on <a href="/billing">Billing</a>{" "}
              and create a key on <a href="/keys">API keys</a>. Keys start with <code>pv_</code>
              {" "}
              and are shown once; keep them on your server.
            </li>
            <li>
              Export it: <code>export PIPEVIDEO_KEY=pv_…</code>
            </li>
            <li>
              Submit a generation. <code>local/preview</code>{" "}
              is the built-in offline model, so this works on a fresh install; see{" "}
              <a href="/models">Models</a> for the others and their prices.
            </li>
          </ol>
          <YourKey hint={data.keyHint} signedIn={data.signedIn} />
          <CodeTabs samples={data.submitSamples} id="docs-submit" />
          <details>
            <summary>Running your own server without the dashboard?</summary>
            <Code label="Admin API (curl)">{s.curlAdminKey}</Code>
          </details>
        </section>

        <section id="poll">
          <h2>Poll for the result</h2>
          <p>
            A generation moves from <code>pending</code> to <code>processing</code> to{" "}
            <code>completed</code> (with <code>output_url</code>, <code>cost_cents</code> and{" "}
            <code>latency_ms</code>) or to <code>failed</code> / <code>cancelled</code>{" "}
            (refunded, with <code>error_message</code>). <code>output_url</code>{" "}
            is a signed link that needs no key and expires within two hours: download the video or
            fetch the generation again for a fresh link. Timestamps are Unix seconds.
          </p>
          <Code label="Poll (curl)">{s.curlPoll}</Code>
        </section>

        <section id="javascript">
          <h2>JavaScript (fetch)</h2>
          <p>Node 18+, Deno, Bun or any runtime with fetch; keep the key on the server.</p>
          <Code label="Submit and poll (JavaScript)">{s.fetchSubmitAndPoll}</Code>
        </section>

        <section id="webhooks">
          <h2>Webhooks</h2>
          <p>
            Register endpoints on <a href="/webhooks">Webhooks</a>, or send <code>webhook_url</code>
            {" "}
            with a request. When a generation ends, successfully or not, we POST{" "}
            <code>video.generation.completed</code> with{" "}
            <code>{"{eventType, generationId, status, outputUrl, errorMessage, data}"}</code>,
            signed the Standard Webhooks way (<code>webhook-id</code>,{" "}
            <code>webhook-timestamp</code>,{" "}
            <code>webhook-signature</code>). Failed deliveries are retried with backoff. A
            per-request <code>webhook_url</code> is signed with your organization's default secret:
          </p>
          <Code label="Default secret (curl)">{s.curlSecret}</Code>
          <p>Verify every delivery against the raw body before trusting it:</p>
          <Code label="Verify a signature (JavaScript, WebCrypto)">{s.webhookVerify}</Code>
        </section>

        <section id="errors">
          <h2>Errors</h2>
          <p>
            Errors answer with an HTTP status and one JSON shape: <code>message</code> for people,
            {" "}
            <code>error</code> for programs.
          </p>
          <Code label="Error body">
            {`{
  "message": "local/preview supports durations 1, 2, 3, 4, 5, 6, 8, 10 seconds, not 7",
  "error": { "type": "invalid_request_error", "code": "unsupported_option", "param": "duration" }
}`}
          </Code>
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Errors">
            <table class="docs-table">
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {ERRORS.map(([code, when]) => (
                  <tr key={code}>
                    <td>
                      <code>{code}</code>
                    </td>
                    <td>{when}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            Prompts hold at most {MAX_PROMPT_CHARS} characters; request bodies at most{" "}
            {Math.round(data.maxBodyBytes / 1024)} KiB.
          </p>
        </section>

        <section id="rate-limits">
          <h2>Rate limits</h2>
          <p>
            Each API key may make{" "}
            <strong>{data.ratePerMinute} requests per minute</strong>. Every response carries{" "}
            <code>X-RateLimit-Limit</code>, <code>X-RateLimit-Remaining</code> and{" "}
            <code>X-RateLimit-Reset</code>. Past the limit you get <code>429</code> with{" "}
            <code>Retry-After</code> (seconds) and <code>data.retry_after</code>; wait that long.
          </p>
        </section>

        <section id="idempotency">
          <h2>Idempotency</h2>
          <p>
            Send an <code>Idempotency-Key</code>{" "}
            header (a UUID per logical request) when you submit. Retrying with the same key and the
            same body within 24 hours returns the first answer without charging again; the same key
            with a different body answers <code>409</code>. Retry network errors and{" "}
            <code>5xx</code> with the same key.
          </p>
        </section>

        <SpendDocs publicUrl={data.publicUrl} />

        <section id="reference">
          <h2>Reference</h2>
          <p>
            The OpenAPI 3.1 document, generated from the schemas the server validates with:{" "}
            <a href="/openapi.json">
              <code>{data.publicUrl}/openapi.json</code>
            </a>. Every endpoint, from that document:
          </p>
          <ApiReference doc={data.openapi} />
        </section>
      </article>
    </main>
  );
});
