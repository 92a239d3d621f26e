/** Which backend the configuration names (STORAGE=local or s3), one per configuration. */
import type { Config } from "../config.ts";
import { s3Backend, type S3Settings } from "./s3.ts";
import { type VideoBackend } from "./types.ts";
import { localBackend } from "./local.ts";

/** The backend the configuration names (STORAGE), one per configuration. */
export function backendFor(config: Config): VideoBackend {
  let backend = backends.get(config);
  if (!backend) {
    backend = config.STORAGE === "s3"
      ? s3Backend(s3SettingsFrom(config))
      : localBackend(config.DATA_DIR);
    backends.set(config, backend);
  }
  return backend;
}

/** The S3_* settings; an error naming each missing one (`migrate` runs before STORAGE=s3). */
export function s3SettingsFrom(config: Config): S3Settings {
  const missing = (["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const)
    .filter((name) => !config[name]);
  if (missing.length) throw new Error(`${missing.join(", ")}: required for s3 storage`);
  return {
    endpoint: config.S3_ENDPOINT ?? `https://s3.${config.S3_REGION}.amazonaws.com`,
    region: config.S3_REGION,
    bucket: config.S3_BUCKET!,
    accessKeyId: config.S3_ACCESS_KEY_ID!,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY!,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    prefix: config.S3_PREFIX,
  };
}
const backends = new WeakMap<Config, VideoBackend>();

/** A DATA_DIR path stands for the local backend (what callers before backends passed). */
export const asBackend = (to: VideoBackend | string) =>
  typeof to === "string" ? localBackend(to) : to;
