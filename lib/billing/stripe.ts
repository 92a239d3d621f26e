import Stripe from "stripe";
import type { Config } from "../config.ts";
import { AppError } from "../errors.ts";

/**
 * The Stripe SDK, configured once from the environment. Retries: the SDK retries network errors
 * and 409/429/5xx itself, and every POST we make carries our own idempotency key, so a retry can
 * never create a second Checkout Session. Two retries keep a page submit under a few seconds.
 */
export const STRIPE_MAX_NETWORK_RETRIES = 2;

/** Credits are in US cents; a session in any other currency is logged and never credited. */
export const BILLING_CURRENCY = "usd";
const STRIPE_TIMEOUT_MS = 20_000;

export type BillingMode = "stripe" | "development" | "off";

/**
 * "stripe" when the secret key is set; otherwise "development" (free development credits) outside
 * production, and "off" in production.
 */
export function billingMode(config: Config): BillingMode {
  if (config.STRIPE_SECRET_KEY) return "stripe";
  return config.production ? "off" : "development";
}

const clients = new WeakMap<Config, Stripe>();

/** The SDK for this config, or null when Stripe is not configured. */
export function stripeClient(config: Config, fetchFn: typeof fetch = fetch): Stripe | null {
  if (!config.STRIPE_SECRET_KEY) return null;
  let client = clients.get(config);
  if (!client) {
    client = new Stripe(config.STRIPE_SECRET_KEY, {
      httpClient: Stripe.createFetchHttpClient(fetchFn),
      maxNetworkRetries: STRIPE_MAX_NETWORK_RETRIES,
      timeout: STRIPE_TIMEOUT_MS,
      appInfo: { name: "Pipevideo" },
      ...(config.STRIPE_API_HOST ? { host: config.STRIPE_API_HOST } : {}),
      ...(config.STRIPE_API_PORT ? { port: config.STRIPE_API_PORT } : {}),
      ...(config.STRIPE_API_PROTOCOL ? { protocol: config.STRIPE_API_PROTOCOL } : {}),
    });
    clients.set(config, client);
  }
  return client;
}

/** Webhook signatures are checked with WebCrypto (Deno has no Node crypto HMAC streaming here). */
export const stripeCrypto = Stripe.createSubtleCryptoProvider();

/** Stripe could not be reached or refused the call; the message never leaks Stripe's details. */
export class PaymentProviderError extends AppError {
  constructor() {
    super(
      502,
      "api_error",
      "payment_provider_error",
      "The payment provider could not be reached. Nothing was charged; please try again.",
    );
  }
}
