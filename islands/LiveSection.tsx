import { useEffect } from "preact/hooks";
import { GENERATION_CHANGED } from "../components/live.ts";

/**
 * Keeps server-rendered sections of the page current: every `intervalMs` (while the tab is
 * visible), and at once when a generation changes on this page, it fetches this page again and
 * swaps in those sections' new HTML. The sections hold plain forms and links only, so nothing
 * needs hydrating after a swap. This is the one place pages follow live state: when the API's
 * event stream exists, it is what changes here.
 */
export default function LiveSection(
  props: { targetIds: string[]; intervalMs: number; note?: string },
) {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    let inFlight = false;
    const refresh = async () => {
      if (inFlight) return;
      inFlight = true;
      try {
        const res = await fetch(location.href, { headers: { Accept: "text/html" } });
        if (res.ok) {
          const doc = new DOMParser().parseFromString(await res.text(), "text/html");
          for (const id of props.targetIds) {
            const fresh = doc.getElementById(id);
            const here = document.getElementById(id);
            // Leave an open <details> alone while the user reads it.
            if (fresh && here && !here.querySelector("details[open]")) {
              if (fresh.innerHTML !== here.innerHTML) here.innerHTML = fresh.innerHTML;
            }
          }
        }
      } catch {
        // The next tick tries again.
      } finally {
        inFlight = false;
      }
    };
    const tick = async () => {
      if (!document.hidden) await refresh();
      if (!stopped) timer = setTimeout(tick, props.intervalMs);
    };
    timer = setTimeout(tick, props.intervalMs);
    const now = () => void refresh();
    addEventListener(GENERATION_CHANGED, now);
    return () => {
      stopped = true;
      clearTimeout(timer);
      removeEventListener(GENERATION_CHANGED, now);
    };
  }, []);
  return props.note ? <p class="muted live-note">{props.note}</p> : null;
}
