import { z } from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv-provider.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import type { Services } from "../services.ts";
import { getModelDetail, listModels } from "../catalog/public.ts";
import {
  type ApiGeneration,
  cancelGeneration,
  createGeneration,
  getGeneration,
  getUsage,
  listGenerations,
} from "../generations/service.ts";
import { generationPresenter, type PresentedGeneration } from "../api/generation.ts";
import { generationEvents } from "../api/events.ts";
import type { ApiCaller } from "../api/auth.ts";
import {
  generationBodySchema,
  generationListQuerySchema,
  parseGenerationBody,
} from "../generations/schema.ts";
import {
  generationListSchema,
  modelDetailSchema,
  modelListSchema,
  presentedGenerationSchema as generationSchema,
  usageSchema,
} from "../openapi.ts";
import { logIfUnexpected, toApiError } from "../http/errors.ts";
import { enforceRequestLimit } from "../ratelimit.ts";
import {
  generationListText,
  generationText,
  modelDetailText,
  modelListText,
  usageText,
} from "./text.ts";

/**
 * Pipevideo's MCP server: the /v1 API as MCP tools, for the organization of one API key. Every
 * tool calls the same lib/ function as its /v1 route, so validation, pricing, charges, refunds,
 * spend controls and the per-key rate limit are the REST API's own. Built per HTTP request
 * (stateless transport), so nothing lives in process memory between requests.
 */

/** The caller of a tool: the API key and its organization, as on /v1 (lib/api/auth.ts). */
export type McpCaller = ApiCaller;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export const MODELS_RESOURCE_URI = "pipevideo://models";
// Each McpServer would otherwise build its own Ajv (~2.5 ms, most of a request's cost); it only
// caches compiled schemas, so one per process serves every per-request server.
const jsonSchemaValidator = new AjvJsonSchemaValidator();
/** How often generate_video re-reads the generation while it waits. */
const WAIT_POLL_MS = 500;
const FINISHED: ReadonlySet<ApiGeneration["status"]> = new Set([
  "completed",
  "failed",
  "cancelled",
]);

const idArgs = z.object({ id: z.string().trim().min(1).max(100).describe("The gen_… id") });

/** generate_video's arguments: the existing client's, from the /v1 request body schema. */
const generateVideoArgs = generationBodySchema.pick({
  model: true,
  prompt: true,
  provider: true,
  duration: true,
  aspect_ratio: true,
  resolution: true,
  image_url: true,
}).required({ model: true });

export function buildMcpServer(services: Services, caller: McpCaller): McpServer {
  const { kv, config } = services;
  const server = new McpServer(
    { name: "pipevideo", title: "Pipevideo", version: "1.0.0" },
    {
      jsonSchemaValidator,
      instructions: "Generate videos with many models through one gateway. list_models shows " +
        "the models and prices; generate_video charges prepaid credits at submission and " +
        "refunds failed or cancelled generations; get_usage shows the balance.",
    },
  );

  const apiGeneration = generationPresenter(services);

  /** One tool call counts as one /v1 request; an API error becomes an isError result. */
  const tool =
    <A>(name: string, run: (args: A, extra: Extra) => Promise<CallToolResult>) =>
    async (args: A, extra: Extra): Promise<CallToolResult> => {
      try {
        await enforceRequestLimit(services, caller.keyId);
        return await run(args, extra);
      } catch (err) {
        logIfUnexpected(services.log, err, { path: "/mcp", tool: name, org_id: caller.orgId });
        return { content: [{ type: "text", text: toApiError(err).body.message }], isError: true };
      }
    };

  server.registerTool(
    "list_models",
    {
      title: "List video models",
      description: "Lists the video models this gateway offers: name, slug, maker, family, " +
        "provider routes, capabilities and price per second or per video.",
      outputSchema: modelListSchema,
      annotations: { readOnlyHint: true },
    },
    tool("list_models", () => {
      const models = listModels(services);
      return Promise.resolve({
        content: [{ type: "text", text: modelListText(models) }],
        structuredContent: modelListSchema.parse({ models }),
      });
    }),
  );

  server.registerTool(
    "get_model",
    {
      title: "Get a video model",
      description: "One model's details (maker, family, routes, capabilities, pricing) and its " +
        "metrics over the last 7 days: requests, success rate and latency.",
      inputSchema: z.object({
        slug: z.string().trim().min(1).max(200).describe("maker/model, e.g. google/veo-3.1"),
      }),
      outputSchema: modelDetailSchema,
      annotations: { readOnlyHint: true },
    },
    tool("get_model", async ({ slug }: { slug: string }) => {
      const detail = await getModelDetail(services, slug);
      return {
        content: [{ type: "text", text: modelDetailText(detail) }],
        structuredContent: modelDetailSchema.parse(detail),
      };
    }),
  );

  server.registerTool(
    "generate_video",
    {
      title: "Generate a video",
      description: "Submits a video generation (charged at submission, refunded if it fails) and " +
        `waits up to ${config.MCP_WAIT_SECONDS} seconds for the video, reporting progress. ` +
        "Returns the video URL when done, else the id to check later with get_generation.",
      inputSchema: generateVideoArgs,
      outputSchema: generationSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    tool("generate_video", async (args: z.infer<typeof generateVideoArgs>, extra) => {
      const created = await createGeneration(
        services.generation,
        caller.orgId,
        parseGenerationBody(args),
        { apiKeyId: caller.keyId, applicationName: "mcp" },
      );
      return generationResult(await waitForGeneration(created.id, extra));
    }),
  );

  server.registerTool(
    "get_generation",
    {
      title: "Get a generation",
      description: "A generation's status, video URL, cost and latency.",
      inputSchema: idArgs,
      outputSchema: generationSchema,
      annotations: { readOnlyHint: true },
    },
    tool("get_generation", async ({ id }: { id: string }) => {
      return generationResult(await apiGeneration(await getGeneration(kv, caller.orgId, id)));
    }),
  );

  server.registerTool(
    "cancel_generation",
    {
      title: "Cancel a generation",
      description: "Cancels a pending or processing generation and refunds its charge.",
      inputSchema: idArgs,
      outputSchema: generationSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    },
    tool("cancel_generation", async ({ id }: { id: string }) => {
      return generationResult(
        await apiGeneration(await cancelGeneration(services.generation, caller.orgId, id)),
      );
    }),
  );

  server.registerTool(
    "list_generations",
    {
      title: "List generations",
      description: "The organization's generations, newest first, optionally filtered by status " +
        "or model; pass next_cursor back as cursor for the next page.",
      inputSchema: generationListQuerySchema,
      outputSchema: generationListSchema,
      annotations: { readOnlyHint: true },
    },
    tool("list_generations", async (args: z.infer<typeof generationListQuerySchema>) => {
      const page = await listGenerations(kv, caller.orgId, args);
      const out = {
        data: await Promise.all(page.data.map(apiGeneration)),
        next_cursor: page.next_cursor,
      };
      return {
        content: [{ type: "text", text: generationListText(out) }],
        structuredContent: generationListSchema.parse(out),
      };
    }),
  );

  server.registerTool(
    "get_usage",
    {
      title: "Get usage and balance",
      description: "The organization's credit balance, request totals and recent requests.",
      outputSchema: usageSchema,
      annotations: { readOnlyHint: true },
    },
    tool("get_usage", async () => {
      const usage = await getUsage(kv, caller.orgId, services.now());
      return {
        content: [{ type: "text", text: usageText(usage) }],
        structuredContent: usageSchema.parse(usage),
      };
    }),
  );

  server.registerResource("models", MODELS_RESOURCE_URI, {
    title: "Model catalog",
    description: "Every model this gateway offers, as GET /v1/models returns it.",
    mimeType: "application/json",
  }, async (uri: URL) => {
    await enforceRequestLimit(services, caller.keyId);
    return {
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify({ models: listModels(services) }),
      }],
    };
  });

  /**
   * Follows the generation (the same live view as /v1's events stream) until it ends, the wait
   * bound passes or the client goes away, sending a progress notification (0–100, strictly
   * rising as MCP asks) whenever it moves, when the client asked for progress.
   */
  async function waitForGeneration(id: string, extra: Extra): Promise<PresentedGeneration> {
    const token = extra._meta?.progressToken;
    const stop = new AbortController();
    const bound = setTimeout(() => stop.abort(), config.MCP_WAIT_SECONDS * 1000);
    const signal = AbortSignal.any([extra.signal, stop.signal]);
    let latest: PresentedGeneration | null = null;
    let sent = -1;
    try {
      for await (
        const { generation: g } of generationEvents(services, caller.orgId, id, {
          signal,
          pollMs: WAIT_POLL_MS,
        })
      ) {
        latest = g;
        const progress = FINISHED.has(g.status) ? 100 : g.progress;
        if (token === undefined || extra.signal.aborted || progress <= sent) continue;
        sent = progress;
        await extra.sendNotification({
          method: "notifications/progress",
          params: {
            progressToken: token,
            progress,
            total: 100,
            message: `Generation ${id} is ${g.status}`,
          },
        });
      }
    } finally {
      clearTimeout(bound);
    }
    return latest ?? await apiGeneration(await getGeneration(kv, caller.orgId, id));
  }

  return server;
}

/** A generation as a tool result; a finished video also comes as a resource link. */
function generationResult(g: PresentedGeneration): CallToolResult {
  const content: CallToolResult["content"] = [{ type: "text", text: generationText(g) }];
  if (g.output_url) {
    content.push({
      type: "resource_link",
      uri: g.output_url,
      name: `${g.id}.mp4`,
      title: `Video of ${g.id}`,
      description: "Signed URL of the MP4; it expires, call get_generation for a fresh one",
      mimeType: "video/mp4",
    });
  }
  return { content, structuredContent: generationSchema.parse(g) };
}
