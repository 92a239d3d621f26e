/** Video containers, told by their first bytes (a provider's Content-Type is not trusted). */
import { type VideoContainer } from "./types.ts";

export type Container = VideoContainer;

export const CONTAINERS: Container[] = [
  { contentType: "video/mp4", ext: "mp4" },
  { contentType: "video/quicktime", ext: "mov" },
  { contentType: "video/webm", ext: "webm" },
  { contentType: "video/x-matroska", ext: "mkv" },
];
const byExt = (ext: string) => CONTAINERS.find((c) => c.ext === ext)!;

/** Bytes needed from the start of a file to recognise its container. */
export const HEAD_BYTES = 64;

/** The container a file's first bytes announce: an ISO-BMFF `ftyp` box or an EBML header. */
export function sniffVideoContainer(head: Uint8Array): Container | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 12 && ascii(4, 8) === "ftyp") {
    const boxSize = new DataView(head.buffer, head.byteOffset).getUint32(0);
    if (boxSize !== 1 && boxSize < 12) return null;
    return byExt(ascii(8, 12) === "qt  " ? "mov" : "mp4");
  }
  if (
    head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3
  ) {
    return byExt(ascii(4, head.length).includes("webm") ? "webm" : "mkv");
  }
  return null;
}
