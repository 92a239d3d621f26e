/** How the dashboard writes money and time. Cents are integers; "$12.34". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}$${Math.floor(abs / 100).toLocaleString("en-US")}.${
    String(abs % 100).padStart(2, "0")
  }`;
}

/** How precise a time is written: a day, a minute (most lists) or a second (timelines). */
export type TimePrecision = "date" | "minute" | "second";

const TIME_PARTS: Record<TimePrecision, Intl.DateTimeFormatOptions> = {
  date: { year: "numeric", month: "short", day: "numeric" },
  minute: { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" },
  second: {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    second: "2-digit",
  },
};

/**
 * A time in words, "Dec 8, 2026, 2:05 PM UTC": in UTC on the server, in the viewer's own time
 * zone once the page's LocalTimes island has run (`timeZone` "local").
 */
export function formatWhen(
  ms: number | null | undefined,
  precision: TimePrecision = "minute",
  timeZone = "UTC",
): string {
  if (ms === null || ms === undefined) return "—";
  return new Intl.DateTimeFormat("en-US", {
    ...TIME_PARTS[precision],
    timeZone: timeZone === "local" ? undefined : timeZone,
    ...(precision === "date" ? {} : { timeZoneName: "short" }),
  }).format(ms);
}

/** "Nov 27, 2026, 2:05 PM UTC". */
export const formatDateTime = (ms: number | null | undefined) => formatWhen(ms, "minute");

/** "Nov 27, 2026". */
export const formatDate = (ms: number | null | undefined) => formatWhen(ms, "date");

/** "Nov 27, 2026, 2:05:09 PM UTC": for timelines, where the second matters. */
export const formatDateTimeSeconds = (ms: number | null | undefined) => formatWhen(ms, "second");
