import { guardedFetch, OutboundRequestError, type Resolver } from "../net/ssrf.ts";

/**
 * The input image of an image-to-video generation, fetched by the submit worker (never by the
 * POST, which must not wait on the network). The URL is the user's, so the fetch goes through the
 * SSRF guard (every redirect hop re-checked), is size-capped, and the bytes must be an image by
 * their magic bytes, whatever the server's Content-Type says.
 */

export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const IMAGE_TIMEOUT_MS = 30_000;
export const IMAGE_MAX_REDIRECTS = 3;

export interface InputImage {
  bytes: Uint8Array;
  mimeType: string;
}

/** Fetches an input image; throws ImageFetchError. */
export type FetchImage = (url: string) => Promise<InputImage>;

/** The image could not be used; `retryable` when another attempt may succeed (5xx, timeout). */
export class ImageFetchError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, to));

/** The image type by signature: PNG, JPEG, WebP or GIF; null for anything else. */
export function sniffImageType(bytes: Uint8Array): string | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return "image/png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "image/jpeg";
  }
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") {
    return "image/webp";
  }
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return "image/gif";
  return null;
}

export interface FetchImageOptions {
  /** config.production false: local targets are allowed (development and tests). */
  allowPrivate: boolean;
  fetch?: typeof fetch;
  resolve?: Resolver;
  maxBytes?: number;
  timeoutMs?: number;
}

/** Downloads and checks an input image. */
export async function fetchInputImage(url: string, opts: FetchImageOptions): Promise<InputImage> {
  const maxBytes = opts.maxBytes ?? MAX_IMAGE_BYTES;
  let res;
  try {
    res = await guardedFetch(url, { method: "GET", headers: { accept: "image/*" } }, {
      allowPrivate: opts.allowPrivate,
      resolve: opts.resolve,
      fetch: opts.fetch,
      maxBytes,
      overflow: "throw",
      timeoutMs: opts.timeoutMs ?? IMAGE_TIMEOUT_MS,
      maxRedirects: IMAGE_MAX_REDIRECTS,
      param: "image_url",
    });
  } catch (err) {
    if (err instanceof OutboundRequestError) {
      const message = err.reason === "response_too_large"
        ? `the image is larger than ${maxBytes / (1024 * 1024)} MiB`
        : err.message;
      throw new ImageFetchError(imageMessage(message), err.reason === "fetch_timeout");
    }
    throw err;
  }
  if (res.status < 200 || res.status > 299) {
    throw new ImageFetchError(
      imageMessage(`the server answered HTTP ${res.status}`),
      res.status >= 500 || res.status === 429 || res.status === 408,
    );
  }
  const mimeType = sniffImageType(res.body);
  if (!mimeType) {
    const type = res.headers.get("content-type") ?? "no content type";
    throw new ImageFetchError(
      imageMessage(`it is not a PNG, JPEG, WebP or GIF image (${type}, ${res.body.length} bytes)`),
      false,
    );
  }
  return { bytes: res.body, mimeType };
}

function imageMessage(why: string) {
  return `image_url could not be used: ${why}`;
}
