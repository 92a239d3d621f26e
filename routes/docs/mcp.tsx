import { page } from "fresh";
import { define } from "../../utils.ts";
import { mcpClientSnippets } from "../../lib/mcp/docs.ts";
import CopyButton from "../../islands/CopyButton.tsx";
import { keyHintFor, YourKey } from "../../components/your_key.tsx";

export const handler = define.handlers({
  async GET(ctx) {
    const { config } = ctx.state.services;
    return page({
      signedIn: Boolean(ctx.state.user),
      keyHint: await keyHintFor(ctx.state),
      snippets: mcpClientSnippets(config.publicUrl),
      waitSeconds: config.MCP_WAIT_SECONDS,
      ratePerMinute: config.RATE_LIMIT_PER_MINUTE,
    });
  },
});

/** The tools as the existing Pipevideo MCP client names them, plus cancel and list. */
const TOOLS: [string, string, string][] = [
  ["list_models", "—", "Every model: name, slug, maker, family, routes, prices"],
  ["get_model", "slug", "One model with its last-7-days requests, success rate and latency"],
  [
    "generate_video",
    "model, prompt, provider?, duration?, aspect_ratio?, resolution?, image_url?",
    "Charges, submits and waits for the video with progress notifications; returns its URL " +
    "(also as a resource link), or the id to check later",
  ],
  ["get_generation", "id", "Status, video URL, cost in dollars, latency in seconds"],
  ["cancel_generation", "id", "Cancels a pending or processing generation and refunds it"],
  ["list_generations", "limit?, cursor?, status?, model?", "Your generations, newest first"],
  ["get_usage", "—", "Balance, totals and recent requests"],
];

const SECTIONS = [
  ["connect", "Connect a client"],
  ["tools", "Tools"],
  ["resources", "Resources"],
  ["errors", "Errors and limits"],
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

export default define.page<typeof handler>(function McpDocs({ data }) {
  const s = data.snippets;
  return (
    <main id="main" class="container docs">
      <nav class="docs-toc" aria-label="On this page">
        <p class="eyebrow">On this page</p>
        {SECTIONS.map(([id, title]) => <a key={id} href={`#${id}`}>{title}</a>)}
        <a href="/docs">REST API docs</a>
      </nav>
      <article class="docs-body">
        <p class="eyebrow">Documentation</p>
        <h1>Make videos from your AI agent (MCP)</h1>
        <p class="lead">
          Pipevideo speaks the Model Context Protocol at <code>{s.endpoint}</code>{" "}
          (Streamable HTTP). Agents such as Claude, Cursor and VS Code call the same API as your
          code does, with the same API key in the <code>Authorization</code>{" "}
          header: the same prices, credits, refunds and limits.
        </p>

        <section id="connect">
          <h2>Connect a client</h2>
          <p>
            Create a key on <a href="/keys">API keys</a> and put it where <code>pv_…</code>{" "}
            stands below. Anyone with the key can spend your credits: keep it out of shared
            repositories.
          </p>
          <YourKey hint={data.keyHint} signedIn={data.signedIn} />
          <Code label="Claude Code">{s.claudeCode}</Code>
          <Code label="Claude Desktop — claude_desktop_config.json (via mcp-remote)">
            {s.claudeDesktop}
          </Code>
          <Code label="Cursor — ~/.cursor/mcp.json or .cursor/mcp.json">{s.cursor}</Code>
          <Code label="VS Code — .vscode/mcp.json (asks for the key once)">{s.vscode}</Code>
          <Code label="Any HTTP client (curl)">{s.curl}</Code>
        </section>

        <section id="tools">
          <h2>Tools</h2>
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Tools">
            <table class="docs-table">
              <thead>
                <tr>
                  <th scope="col">Tool</th>
                  <th scope="col">Arguments</th>
                  <th scope="col">Returns</th>
                </tr>
              </thead>
              <tbody>
                {TOOLS.map(([name, args, what]) => (
                  <tr key={name}>
                    <td>
                      <code>{name}</code>
                    </td>
                    <td>{args}</td>
                    <td>{what}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            Each tool answers with readable text and, as structured content, the same JSON as the
            matching{" "}
            <a href="/docs#reference">REST endpoint</a>; input and output schemas come from the
            API's own. <code>generate_video</code> waits up to{" "}
            <strong>{data.waitSeconds} seconds</strong>; a longer generation keeps running and{" "}
            <code>get_generation</code> finds it later.
          </p>
        </section>

        <section id="resources">
          <h2>Resources</h2>
          <p>
            <code>pipevideo://models</code> is the model catalog (JSON, as{" "}
            <code>GET /v1/models</code>). A finished video comes as a resource link to its signed
            {" "}
            <code>output_url</code>, which needs no key and expires; <code>get_generation</code>
            {" "}
            returns a fresh one.
          </p>
        </section>

        <section id="errors">
          <h2>Errors and limits</h2>
          <p>
            Insufficient credits, invalid arguments, an unknown id and rate limits come back as tool
            results marked <code>isError</code>{" "}
            with the API's message, so the agent can read them. A missing or invalid key is an HTTP
            {" "}
            <code>401</code> with a <code>WWW-Authenticate</code>{" "}
            header. Tool calls count against the key's{" "}
            <strong>{data.ratePerMinute} requests per minute</strong>, shared with the REST API.
          </p>
        </section>
      </article>
    </main>
  );
});
