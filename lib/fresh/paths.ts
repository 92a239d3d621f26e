import { fileURLToPath } from "node:url";

export function fromFileUrl(url: URL | string): string {
  return fileURLToPath(url);
}
