/** One JSON line per event. Never given secrets: callers pass paths without query strings. */
export type Logger = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export function jsonLogger(write: (line: string) => void = (l) => console.log(l)): Logger {
  return (level, msg, fields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  };
}
