/**
 * Spend periods at UTC boundaries. A period is named by a short id that KV keys carry
 * ("all", "d2026-11-27", "w2026-11-23" for the week starting that Monday, "m2026-11"), so a
 * reset needs no job: the next period simply has fresh counters.
 */

export const LIMIT_RESETS = ["never", "daily", "weekly", "monthly"] as const;
export type LimitReset = typeof LIMIT_RESETS[number];

const DAY_MS = 86_400_000;

function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** Monday 00:00 UTC of the week holding `ms`. */
function weekStart(ms: number): number {
  const d = dayStart(ms);
  const weekday = (new Date(d).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return d - weekday * DAY_MS;
}

function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The id of the period of `reset` that holds `ms`. */
export function periodId(reset: LimitReset, ms: number): string {
  switch (reset) {
    case "never":
      return "all";
    case "daily":
      return `d${iso(dayStart(ms)).slice(0, 10)}`;
    case "weekly":
      return `w${iso(weekStart(ms)).slice(0, 10)}`;
    case "monthly":
      return `m${iso(monthStart(ms)).slice(0, 7)}`;
  }
}

/** When the period holding `ms` ends (ms), or null for `never`. */
export function periodEnd(reset: LimitReset, ms: number): number | null {
  switch (reset) {
    case "never":
      return null;
    case "daily":
      return dayStart(ms) + DAY_MS;
    case "weekly":
      return weekStart(ms) + 7 * DAY_MS;
    case "monthly": {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** Every period a charge at `ms` counts in: each key keeps all of them, whatever its limit. */
export function periodsOf(ms: number): string[] {
  return LIMIT_RESETS.map((r) => periodId(r, ms));
}
