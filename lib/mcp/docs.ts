/**
 * Copy-paste configurations for MCP hosts, pointing at this server's /mcp with an API key
 * header (the docs page at /docs/mcp shows them). `pv_…` stands for the reader's key.
 */
export interface McpClientSnippets {
  endpoint: string;
  claudeCode: string;
  claudeDesktop: string;
  cursor: string;
  vscode: string;
  curl: string;
}

const KEY = "pv_…";
const pretty = (v: unknown) => JSON.stringify(v, null, 2);

export function mcpClientSnippets(publicUrl: string): McpClientSnippets {
  const endpoint = `${publicUrl}/mcp`;
  return {
    endpoint,
    claudeCode: `claude mcp add --transport http pipevideo ${endpoint} \\
  --header "Authorization: Bearer ${KEY}"`,
    // Claude Desktop's config file starts local (stdio) servers; mcp-remote bridges to HTTP.
    // The header goes through an env variable because some platforms split args on spaces.
    claudeDesktop: pretty({
      mcpServers: {
        pipevideo: {
          command: "npx",
          args: ["-y", "mcp-remote", endpoint, "--header", "Authorization:${PIPEVIDEO_AUTH}"],
          env: { PIPEVIDEO_AUTH: `Bearer ${KEY}` },
        },
      },
    }),
    cursor: pretty({
      mcpServers: {
        pipevideo: { url: endpoint, headers: { Authorization: `Bearer ${KEY}` } },
      },
    }),
    vscode: pretty({
      inputs: [{
        type: "promptString",
        id: "pipevideo-key",
        description: "Pipevideo API key (pv_…)",
        password: true,
      }],
      servers: {
        pipevideo: {
          type: "http",
          url: endpoint,
          headers: { Authorization: "Bearer ${input:pipevideo-key}" },
        },
      },
    }),
    curl: `curl -s ${endpoint} \\
  -H "Authorization: Bearer $PIPEVIDEO_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Accept: application/json, text/event-stream" \\
  -d '{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
       "params": {"name": "get_usage", "arguments": {}}}'`,
  };
}
