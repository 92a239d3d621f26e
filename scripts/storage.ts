/**
 * Storage operations. `deno task storage migrate` copies the local videos (DATA_DIR/videos) into
 * the bucket named by the S3_* variables, resumably, and verifies every size before saying the
 * switch to STORAGE=s3 is safe. Exits 1 on any failure or mismatch.
 */
import { loadConfig } from "../lib/config.ts";
import { s3SettingsFrom } from "../lib/storage/mod.ts";
import { s3Backend } from "../lib/storage/s3.ts";
import { migrateVideos, progressBar } from "../lib/storage/migrate.ts";

const USAGE = "usage: deno task storage migrate";

export async function run(
  args: string[],
  env: Record<string, string>,
  out = (line: string): void => console.log(line),
  bar = (line: string): void => void Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}`)),
): Promise<number> {
  if (args[0] !== "migrate") {
    out(USAGE);
    return 2;
  }
  const config = await loadConfig(env);
  const target = s3Backend(s3SettingsFrom(config));
  out(`Copying videos from ${config.DATA_DIR}/videos to bucket ${config.S3_BUCKET}…`);
  const r = await migrateVideos(config.DATA_DIR, target, (p) => bar(progressBar(p)));
  bar("\n");
  out(`${r.copied.length} copied, ${r.skipped.length} already there (same size).`);
  if (r.mismatched.length) {
    out(`SIZE MISMATCH in the bucket for: ${r.mismatched.join(", ")}. Run migrate again.`);
    return 1;
  }
  out(
    `All ${r.copied.length + r.skipped.length} videos verified in the bucket. ` +
      "Set STORAGE=s3 and restart to switch.",
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await run(Deno.args, Deno.env.toObject()));
  } catch (err) {
    console.error(`storage: ${(err as Error).message}`);
    Deno.exit(1);
  }
}
