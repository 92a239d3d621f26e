/** How the dashboard writes money and time. Cents are integers; "$12.34". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}$${Math.floor(abs / 100).toLocaleString("en-US")}.${
    String(abs % 100).padStart(2, "0")
  }`;
}

/** "2026-11-27 14:05 UTC": unambiguous and the same on server and client. */
export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().slice(0, 10);
}

/** "2026-11-27 14:05:09 UTC": for timelines, where the second matters. */
export function formatDateTimeSeconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}
