import { useEffect } from "preact/hooks";
import { formatWhen, type TimePrecision } from "../lib/format.ts";

/**
 * Rewrites every `<time data-precision>` on the page (components/time.tsx) into the viewer's
 * time zone, now and whenever a live section swaps in new ones. Renders nothing.
 */
export default function LocalTimes() {
  useEffect(() => {
    const localize = () => {
      for (const el of document.querySelectorAll<HTMLTimeElement>("time[data-precision]")) {
        if (el.dataset.local) continue;
        const ms = Date.parse(el.dateTime);
        if (Number.isNaN(ms)) continue;
        el.textContent = formatWhen(ms, el.dataset.precision as TimePrecision, "local");
        el.dataset.local = "1";
      }
    };
    localize();
    const watch = new MutationObserver(localize);
    watch.observe(document.body, { childList: true, subtree: true });
    return () => watch.disconnect();
  }, []);
  return null;
}
