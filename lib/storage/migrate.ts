/**
 * `deno task storage migrate`: copies the videos under DATA_DIR/videos into the bucket. Resumable
 * (a video already in the bucket at the same size is skipped), and every video's size is checked
 * in the bucket before it says the switch to STORAGE=s3 is safe. Local files stay: the retention
 * sweep deletes them with the bucket's copy, or the operator removes them once switched.
 */
import { storeVideoFromFile, videosDir } from "./mod.ts";
import type { VideoBackend } from "./types.ts";

export interface MigrationProgress {
  done: number;
  total: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface MigrationResult {
  copied: string[];
  skipped: string[];
  /** Videos whose size in the bucket differs from the local file after the copy. */
  mismatched: string[];
}

const VIDEO_FILE = /^([A-Za-z0-9_-]{1,100})\.(mp4|mov|webm|mkv)$/;

export async function migrateVideos(
  dataDir: string,
  target: VideoBackend,
  onProgress: (p: MigrationProgress) => void | Promise<void> = () => {},
): Promise<MigrationResult> {
  const files: { genId: string; path: string; size: number }[] = [];
  try {
    for await (const e of Deno.readDir(videosDir(dataDir))) {
      const m = VIDEO_FILE.exec(e.name);
      if (!e.isFile || !m) continue; // temp files (.gen_….part) and anything else
      const path = `${videosDir(dataDir)}/${e.name}`;
      files.push({ genId: m[1], path, size: (await Deno.stat(path)).size });
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  files.sort((a, b) => a.genId < b.genId ? -1 : 1);
  const progress = {
    done: 0,
    total: files.length,
    bytesDone: 0,
    bytesTotal: files.reduce((n, f) => n + f.size, 0),
  };
  await onProgress({ ...progress });
  const result: MigrationResult = { copied: [], skipped: [], mismatched: [] };
  for (const f of files) {
    if (await target.size(f.genId) === f.size) {
      result.skipped.push(f.genId);
    } else {
      await storeVideoFromFile(target, f.genId, f.path);
      result.copied.push(f.genId);
    }
    progress.done++;
    progress.bytesDone += f.size;
    await onProgress({ ...progress });
  }
  // Verified after the whole copy, so nothing changed under it since.
  for (const f of files) {
    if (await target.size(f.genId) !== f.size) result.mismatched.push(f.genId);
  }
  return result;
}

/** `[#########-----------]  9/20 videos, 180.0/400.0 MiB` */
export function progressBar(p: MigrationProgress, width = 30): string {
  const filled = p.bytesTotal ? Math.round(width * p.bytesDone / p.bytesTotal) : width;
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.done}/${p.total} videos, ` +
    `${mib(p.bytesDone)}/${mib(p.bytesTotal)} MiB`;
}
