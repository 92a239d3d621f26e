import { notInUnitLane } from "./lane.ts";
/** Test helpers: what ffprobe (Debian's ffmpeg ships it) says about a video file. */

export interface ProbedVideo {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  /** Seconds, from the container. */
  duration: number;
  formatName: string;
}

export async function probeVideo(path: string): Promise<ProbedVideo> {
  const { code, stdout, stderr } = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,pix_fmt,width,height:format=duration,format_name",
      "-of",
      "json",
      path,
    ],
    stdin: "null",
  }).output();
  if (code !== 0) throw new Error(`ffprobe failed: ${new TextDecoder().decode(stderr)}`);
  const json = JSON.parse(new TextDecoder().decode(stdout));
  const s = json.streams?.[0];
  if (!s) throw new Error(`ffprobe found no video stream in ${path}`);
  return {
    codec: s.codec_name,
    pixFmt: s.pix_fmt,
    width: s.width,
    height: s.height,
    duration: Number(json.format.duration),
    formatName: json.format.format_name,
  };
}

/** True when the MP4's `moov` box comes before `mdat` (+faststart: playable while downloading). */
export async function isFastStart(path: string): Promise<boolean> {
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    if (type === "moov") return true;
    if (type === "mdat") return false;
    if (size < 8) return false;
    at += size;
  }
  return false;
}

/** A small real MP4 (H.264) made with ffmpeg, for storage tests. */
export async function makeTinyMp4(path: string, seconds = 1): Promise<void> {
  notInUnitLane("ffmpeg");
  const { code, stderr } = await new Deno.Command("ffmpeg", {
    args: [
      "-nostdin",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=s=128x72:r=12:d=${seconds}`,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      path,
    ],
    stdin: "null",
  }).output();
  if (code !== 0) throw new Error(`ffmpeg failed: ${new TextDecoder().decode(stderr)}`);
}
