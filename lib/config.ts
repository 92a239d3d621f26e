import { z } from "zod";
import { randomToken } from "./crypto.ts";

/** The environment, read and validated once at start-up (DESIGN.md, "Configuration"). */
const optional = z.string().trim().min(1).optional();
const url = z.url({ protocol: /^https?$/ });
const ms = z.coerce.number().int().min(1).max(3_600_000);

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  PUBLIC_URL: url.optional(),
  DENO_KV_PATH: z.string().min(1).default("./data/pipevideo.sqlite"),
  // For a KV Connect URL in DENO_KV_PATH (denokv, Deno Deploy KV); Deno itself reads it.
  DENO_KV_ACCESS_TOKEN: optional,
  // Job slots per process and lane (generation work; webhook deliveries get as many again).
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // Set by Deno Deploy itself: no writable disk, no subprocesses (docs/scale-out.md).
  DENO_DEPLOYMENT_ID: optional,
  DATA_DIR: z.string().min(1).default("./data"),
  APP_ENV: z.enum(["development", "test", "production"]).default("development"),
  SECRET_KEY: z.string().min(32, "must be at least 32 characters").optional(),
  ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  // Bearer token for GET /metrics (ADMIN_TOKEN when unset; /metrics is off without either).
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(100),
  TRUSTED_PROXY: z.coerce.number().int().min(0).max(9).default(0), // X-Forwarded-For hops to trust
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  // Slow clients (lib/http/serve.ts): a request's headers, and the whole request with its body,
  // must arrive within these; REQUEST_TIMEOUT_SECONDS=0 turns both off (a proxy enforces them).
  // Unset, they hold (60 s) wherever others can connect, and are off on loopback (boundsOf).
  REQUEST_HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3600).default(10),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(0).max(3600).optional(),
  PRICE_MARGIN: z.coerce.number().min(1).max(10).default(1.25),
  // A JSON file of models and routes added to or replacing the shipped catalog (API.md,
  // "Operator catalog"); validated at start-up, a bad entry stops it.
  CATALOG_FILE: optional,
  STRIPE_SECRET_KEY: optional,
  STRIPE_WEBHOOK_SECRET: optional,
  // Where the Stripe SDK sends API calls; set only to point it at a local stand-in (tests).
  STRIPE_API_HOST: optional,
  STRIPE_API_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  STRIPE_API_PROTOCOL: z.enum(["http", "https"]).optional(),
  // Limits of one top-up, in cents ($5 to $1,000 by default).
  BILLING_MIN_CENTS: z.coerce.number().int().min(50).default(500),
  BILLING_MAX_CENTS: z.coerce.number().int().min(50).max(99_999_999).default(100_000),
  GITHUB_CLIENT_ID: optional,
  GITHUB_CLIENT_SECRET: optional,
  GOOGLE_CLIENT_ID: optional,
  GOOGLE_CLIENT_SECRET: optional,
  // OAuth endpoints: overridable so tests (and GitHub Enterprise) can point elsewhere.
  GITHUB_OAUTH_URL: url.default("https://github.com"),
  GITHUB_API_URL: url.default("https://api.github.com"),
  GOOGLE_AUTH_URL: url.default("https://accounts.google.com/o/oauth2/v2/auth"),
  GOOGLE_TOKEN_URL: url.default("https://oauth2.googleapis.com/token"),
  GOOGLE_USERINFO_URL: url.default("https://openidconnect.googleapis.com/v1/userinfo"),
  SMTP_URL: optional,
  MAIL_FROM: optional,
  GEMINI_API_KEY: optional,
  GEMINI_BASE_URL: url.default("https://generativelanguage.googleapis.com"),
  FAL_KEY: optional,
  FAL_QUEUE_URL: url.default("https://queue.fal.run"),
  REPLICATE_API_TOKEN: optional,
  REPLICATE_BASE_URL: url.default("https://api.replicate.com"),
  RUNWAYML_API_SECRET: optional,
  RUNWAYML_BASE_URL: url.default("https://api.dev.runwayml.com"),
  LUMAAI_API_KEY: optional,
  LUMAAI_BASE_URL: url.default("https://api.lumalabs.ai/dream-machine/v1")
    .refine((u) => new URL(u).pathname.replace(/\/+$/, "") !== "", {
      error: "LUMAAI_BASE_URL now includes the API path, as in Luma's SDK: " +
        "add /dream-machine/v1 (e.g. https://api.lumalabs.ai/dream-machine/v1)",
    }),
  // How long the MCP generate_video tool waits for the video before answering with the id to poll.
  MCP_WAIT_SECONDS: z.coerce.number().int().min(0).max(300).default(50),
  // Where finished videos live (docs/storage.md): local disk under DATA_DIR, or an S3 bucket.
  STORAGE: z.enum(["local", "s3"]).default("local"),
  S3_ENDPOINT: url.optional(),
  S3_REGION: z.string().trim().min(1).default("us-east-1"),
  S3_BUCKET: optional,
  S3_ACCESS_KEY_ID: optional,
  S3_SECRET_ACCESS_KEY: optional,
  S3_FORCE_PATH_STYLE: z.enum(["true", "false", "1", "0"], "must be true or false")
    .default("false").transform((v) => v === "true" || v === "1"),
  S3_PREFIX: z.string().trim().default("").transform((p) => p && !p.endsWith("/") ? `${p}/` : p),
  VIDEO_RETENTION_DAYS: z.coerce.number().int().min(0).default(30), // 0 keeps videos forever
  // Listen address; unset: loopback only outside production (see listenHostname).
  HOST: optional,
  // Former SECRET_KEYs, comma-separated: sealed secrets made under them still open (rotation).
  SECRET_KEY_PREVIOUS: optional,
  // Provider call timeouts (lib/providers/faults.ts): common ones and per-provider overrides.
  PROVIDER_CONNECT_TIMEOUT_MS: ms.default(10_000),
  PROVIDER_TIMEOUT_MS: ms.default(60_000),
  ...perProviderTimeouts(),
  // How long a worker's claim on a submit, render or download holds unless renewed.
  WORKER_LEASE_MS: z.coerce.number().int().min(1_000).max(10 * 60_000).default(30_000),
});

function perProviderTimeouts() {
  const names = ["FAL", "GEMINI", "REPLICATE", "RUNWAYML", "LUMAAI"] as const;
  return Object.fromEntries(
    names.flatMap((
      p,
    ) => [[`${p}_CONNECT_TIMEOUT_MS`, ms.optional()], [`${p}_TIMEOUT_MS`, ms.optional()]]),
  ) as Record<
    `${typeof names[number]}_${"CONNECT_TIMEOUT_MS" | "TIMEOUT_MS"}`,
    z.ZodOptional<typeof ms>
  >;
}

export type Env = z.infer<typeof schema>;
/** Every variable the app reads (deployment files are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);
export type Config = Env & { publicUrl: string; secretKey: string; production: boolean };

export class ConfigError extends Error {}

/** Validates the environment; a bad value throws a message that names the variable. */
export function parseEnv(env: Record<string, string | undefined>): Env {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = result.data;
  const problems: string[] = [];
  if (e.APP_ENV === "production") {
    if (!e.SECRET_KEY) problems.push("SECRET_KEY: required in production");
    // Session cookies are Secure only over https, and links in emails must reach the server.
    if (!e.PUBLIC_URL?.startsWith("https://")) {
      problems.push("PUBLIC_URL: an https:// URL is required in production");
    }
  }
  if (e.DENO_DEPLOYMENT_ID) problems.push(...deployProblems(cleaned, e));
  if (
    (e.REQUEST_TIMEOUT_SECONDS ?? 60) > 0 &&
    e.REQUEST_HEADERS_TIMEOUT_SECONDS > (e.REQUEST_TIMEOUT_SECONDS ?? 60)
  ) {
    problems.push("REQUEST_HEADERS_TIMEOUT_SECONDS: must not exceed REQUEST_TIMEOUT_SECONDS");
  }
  if (e.BILLING_MIN_CENTS > e.BILLING_MAX_CENTS) {
    problems.push("BILLING_MIN_CENTS: must not exceed BILLING_MAX_CENTS");
  }
  // Checkout without the webhook secret would take payments that are never credited.
  if (!e.STRIPE_SECRET_KEY !== !e.STRIPE_WEBHOOK_SECRET) {
    problems.push(
      `${e.STRIPE_SECRET_KEY ? "STRIPE_WEBHOOK_SECRET" : "STRIPE_SECRET_KEY"}: ` +
        "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET must be set together",
    );
  }
  if (e.STORAGE === "s3") {
    for (const name of ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
      if (!e[name]) problems.push(`${name}: required when STORAGE=s3`);
    }
  }
  // Instances sharing a KV server each have their own disk: a video stored by one would be
  // missing on the others.
  if (e.APP_ENV === "production" && e.STORAGE === "local" && /^https?:\/\//.test(e.DENO_KV_PATH)) {
    problems.push(
      "STORAGE: local storage cannot be used with a KV Connect URL in DENO_KV_PATH (several " +
        "instances would each keep videos on their own disk); set STORAGE=s3",
    );
  }
  if (problems.length) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  return e;
}

/**
 * Deno Deploy has KV built in but no writable disk and no subprocesses: settings that need
 * either are refused at start-up, naming the variable, instead of failing on first use.
 */
function deployProblems(raw: Record<string, string | undefined>, e: Env): string[] {
  const problems: string[] = [];
  if (raw.DENO_KV_PATH !== undefined) {
    problems.push("DENO_KV_PATH: leave it unset on Deno Deploy (its built-in KV is used)");
  }
  // STORAGE is read raw: its schema entry belongs to the object-storage work.
  if (raw.STORAGE !== "s3") {
    problems.push("STORAGE: Deno Deploy has no writable disk; set STORAGE=s3 (docs/storage.md)");
  }
  if (!e.SECRET_KEY) {
    problems.push("SECRET_KEY: required on Deno Deploy (there is no disk to keep a generated one)");
  }
  return problems;
}

/** Reads the process environment and fills in the development secret, kept in DATA_DIR. */
export async function loadConfig(env = Deno.env.toObject()): Promise<Config> {
  const e = parseEnv(env);
  const secretKey = e.SECRET_KEY ?? await developmentSecret(e.DATA_DIR);
  return {
    ...e,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    secretKey,
    production: e.APP_ENV === "production",
  };
}

async function developmentSecret(dataDir: string): Promise<string> {
  const file = `${dataDir}/secret_key`;
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const secret = randomToken(32);
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(file, secret, { mode: 0o600, createNew: true }).catch((err) => {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  });
  return (await Deno.readTextFile(file)).trim();
}

/** A config for tests: in-memory KV, a temporary data dir, fixed secret. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const e = parseEnv({
    APP_ENV: "test",
    DENO_KV_PATH: ":memory:",
    DATA_DIR: Deno.makeTempDirSync({ prefix: "pipevideo-test-" }),
    // Production needs an https PUBLIC_URL; tests of production behaviour get a stand-in.
    ...(overrides.APP_ENV === "production" ? { PUBLIC_URL: "https://pipevideo.test" } : {}),
    ...overrides,
  });
  return {
    ...e,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    secretKey: e.SECRET_KEY ?? "test-secret-key-0123456789abcdef0123456789",
    production: e.APP_ENV === "production",
  };
}

/**
 * Where to listen: HOST when set; otherwise every interface in production, and loopback only in
 * development and test, whose conveniences (free credits, no SSRF guard) must not be reachable.
 */
export function listenHostname(config: Pick<Config, "HOST" | "production">): string {
  return config.HOST ?? (config.production ? "0.0.0.0" : "127.0.0.1");
}
