/** What a video storage backend does; lib/storage.ts has `local`, lib/storage/s3.ts `s3`. */

export interface VideoContainer {
  contentType: string;
  ext: string;
}

export interface VideoBackend {
  readonly kind: "local" | "s3";
  /** Where served videos come from when not from the app itself (the bucket's origin). */
  readonly mediaOrigin?: string;
  /**
   * Stores a whole video under the generation id, reading `body` as it arrives; resolves with
   * its size once it is complete and visible. If `body` errors or the write fails, no new
   * object is left behind and the error is rethrown as it came.
   */
  write(
    genId: string,
    container: VideoContainer,
    body: ReadableStream<Uint8Array>,
  ): Promise<number>;
  /** Answers GET/HEAD of a video whose signed link the caller has checked. */
  serve(req: Request, genId: string): Promise<Response>;
  /** Deletes the video; a missing one is not an error. */
  remove(genId: string): Promise<void>;
  /** Size in bytes, or null when there is no such video. */
  size(genId: string): Promise<number | null>;
}

/**
 * Object storage refused the work for a reason retrying will not fix (credentials, a missing
 * bucket). Logged in full; the generation fails and is refunded.
 */
export class StorageError extends Error {}
