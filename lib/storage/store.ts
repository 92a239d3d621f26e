/** Storing a video through a backend, its container recognised first. */
import { ProviderError } from "../providers/types.ts";
import { type VideoBackend } from "./types.ts";
import { HEAD_BYTES, sniffVideoContainer } from "./containers.ts";
import { checkGenId } from "./local.ts";
import { asBackend } from "./backend.ts";

export interface StoredVideo {
  bytes: number;
  contentType: string;
}

/**
 * Reads a stream's first bytes to recognise the container, then hands the whole stream (those
 * bytes first) to the backend. A stream that is not a video is refused before anything is written.
 */
export async function storeStream(
  backend: VideoBackend,
  genId: string,
  body: ReadableStream<Uint8Array>,
  notVideo: (headBytes: number) => ProviderError,
): Promise<StoredVideo> {
  const reader = body.getReader();
  const seen: Uint8Array[] = [];
  let seenBytes = 0;
  while (seenBytes < HEAD_BYTES) {
    const { value, done } = await reader.read();
    if (done) break;
    seen.push(value);
    seenBytes += value.length;
  }
  const head = new Uint8Array(seenBytes);
  seen.reduce((at, c) => (head.set(c, at), at + c.length), 0);
  const container = sniffVideoContainer(head.subarray(0, HEAD_BYTES));
  if (!container) {
    await reader.cancel();
    throw notVideo(seenBytes);
  }
  const whole = new ReadableStream<Uint8Array>({
    start(c) {
      if (head.length) c.enqueue(head);
    },
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  const bytes = await backend.write(genId, container, whole);
  return { bytes, contentType: container.contentType };
}

/** Stores a local file (the local model's render, once ffmpeg is done). The source stays. */
export async function storeVideoFromFile(
  to: VideoBackend | string,
  genId: string,
  path: string,
): Promise<StoredVideo> {
  checkGenId(genId);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ProviderError(`The rendered video ${path} does not exist`, false);
    }
    throw err;
  }
  // The stream closes the file when it ends or is cancelled.
  return await storeStream(
    asBackend(to),
    genId,
    file.readable,
    () => new ProviderError(`${path} is not an MP4, MOV or WebM video`, false),
  );
}
