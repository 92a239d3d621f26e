import { useEffect } from "preact/hooks";

/**
 * Keeps one server-rendered section of the page current: every `intervalMs` (while the tab is
 * visible) it fetches this page again and swaps in that section's new HTML. The section holds
 * plain forms and links only, so nothing needs hydrating after a swap.
 */
export default function LiveSection(props: { targetId: string; intervalMs: number }) {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      if (!document.hidden) {
        try {
          const res = await fetch(location.href, { headers: { Accept: "text/html" } });
          if (res.ok) {
            const doc = new DOMParser().parseFromString(await res.text(), "text/html");
            const fresh = doc.getElementById(props.targetId);
            const here = document.getElementById(props.targetId);
            // Leave an open <details> alone while the user reads it.
            if (fresh && here && !here.querySelector("details[open]")) {
              if (fresh.innerHTML !== here.innerHTML) here.innerHTML = fresh.innerHTML;
            }
          }
        } catch {
          // The next tick tries again.
        }
      }
      if (!stopped) timer = setTimeout(tick, props.intervalMs);
    };
    timer = setTimeout(tick, props.intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return <p class="muted live-note">Deliveries update live.</p>;
}
