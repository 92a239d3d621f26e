/**
 * The local backend: videos under `${DATA_DIR}/videos/` by generation id. Writes go to a temp
 * file and are renamed into place, so a reader never sees half a video.
 */
import { type VideoBackend } from "./types.ts";
import { CONTAINERS } from "./containers.ts";
import { serveVideoFile } from "./serve.ts";

export const GEN_ID = /^[A-Za-z0-9_-]{1,100}$/;

export function checkGenId(genId: string): void {
  if (!GEN_ID.test(genId)) throw new Error(`Invalid generation id for storage: ${genId}`);
}

export function videosDir(dataDir: string): string {
  return `${dataDir.replace(/\/$/, "")}/videos`;
}

/**
 * The `local` backend: `${DATA_DIR}/videos/{genId}.{ext}`. A write goes to a temp file renamed
 * into place, so a reader never sees half a video, and a failed one leaves nothing.
 */
export function localBackend(dataDir: string): VideoBackend {
  const dir = videosDir(dataDir);
  return {
    kind: "local",
    async write(genId, container, body) {
      checkGenId(genId);
      await Deno.mkdir(dir, { recursive: true });
      const temp = `${dir}/.${genId}.${crypto.randomUUID()}.part`;
      try {
        const file = await Deno.open(temp, { write: true, createNew: true });
        await body.pipeTo(file.writable); // closes the file, also on error
        const { size } = await Deno.stat(temp);
        await Deno.rename(temp, `${dir}/${genId}.${container.ext}`);
        for (const other of CONTAINERS) {
          if (other.ext !== container.ext) {
            await Deno.remove(`${dir}/${genId}.${other.ext}`).catch(() => {});
          }
        }
        return size;
      } catch (err) {
        await Deno.remove(temp).catch(() => {});
        throw err;
      }
    },
    serve: (req, genId) => serveVideo(req, dataDir, genId),
    async remove(genId) {
      checkGenId(genId);
      for (const c of CONTAINERS) {
        await Deno.remove(`${dir}/${genId}.${c.ext}`).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    },
    async size(genId) {
      const found = GEN_ID.test(genId) ? await openVideo(dataDir, genId) : null;
      if (!found) return null;
      using file = found.file;
      return (await file.stat()).size;
    },
  };
}

/** Answers a GET or HEAD for a video on local disk (lib/storage/serve.ts); 404 for none. */
export async function serveVideo(req: Request, dataDir: string, genId: string): Promise<Response> {
  return serveVideoFile(req, GEN_ID.test(genId) ? await openVideo(dataDir, genId) : null, genId);
}

async function openVideo(dataDir: string, genId: string) {
  for (const container of CONTAINERS) {
    try {
      const file = await Deno.open(`${videosDir(dataDir)}/${genId}.${container.ext}`);
      return { file, container };
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return null;
}
