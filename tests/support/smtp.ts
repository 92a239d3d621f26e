import { SMTPServer } from "smtp-server";

/**
 * A real SMTP server on 127.0.0.1. Every received message (raw text) stays in `inbox`;
 * `next()` waits for the next one it has not yet handed out.
 */
export async function startSmtp() {
  const inbox: string[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", () => {
        inbox.push(new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))));
        waiters.splice(0).forEach((w) => w());
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    inbox,
    async next(timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (taken >= inbox.length) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error("no mail arrived");
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
          waiters.push(resolve);
        });
        clearTimeout(timer);
      }
      return inbox[taken++];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A received message's bodies as the reader sees them: quoted-printable decoded (UTF-8). */
export function decodedMail(raw: string): string {
  return raw.replace(/=\r?\n/g, "").replace(
    /(?:=[0-9A-F]{2})+/g,
    (run) =>
      new TextDecoder().decode(new Uint8Array(run.slice(1).split("=").map((h) => parseInt(h, 16)))),
  );
}
