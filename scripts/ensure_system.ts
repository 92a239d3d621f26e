/**
 * The test suite needs Debian's Chromium (browser tests) and ffmpeg with ffprobe (real video
 * checks). On a fresh Debian machine where we are root, install them; elsewhere say what to do.
 */
const NEEDED: [string, string][] = [
  ["/usr/bin/chromium", "chromium"],
  ["/usr/bin/ffprobe", "ffmpeg"],
  // The docs snippet tests run the curl commands the pages show.
  ["/usr/bin/curl", "curl"],
  ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"],
  // OpenStack Swift with s3api: the S3-protocol server of the storage tests (tests/support/swift.ts).
  ["/usr/bin/swift-proxy-server", "swift-proxy"],
  ["/usr/bin/swift-object-server", "swift-object"],
  ["/usr/bin/swift-container-server", "swift-container"],
  ["/usr/bin/swift-account-server", "swift-account"],
  // promtool and a real Prometheus server for the /metrics tests (tests/http/metrics_test.ts).
  ["/usr/bin/promtool", "prometheus"],
];

export async function ensureSystemPackages(): Promise<void> {
  const missing = NEEDED.filter(([path]) => !exists(path)).map(([, pkg]) => pkg);
  if (!missing.length) return;
  const isRoot = Deno.uid() === 0;
  if (!isRoot || !exists("/usr/bin/apt-get")) {
    throw new Error(
      `Missing system packages: ${missing.join(", ")}. Install them (Debian: ` +
        `sudo apt-get install -y ${missing.join(" ")}) and run the tests again.`,
    );
  }
  console.log(`Installing ${missing.join(", ")} with apt-get (needed by the tests)…`);
  await run(["apt-get", "update", "-qq"]);
  await run(["apt-get", "install", "-y", "-qq", ...missing]);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string[]) {
  const { code } = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed with exit code ${code}`);
}
