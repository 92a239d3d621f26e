import { useEffect } from "preact/hooks";

/**
 * Reloads the page when the browser restores it from its back-forward cache, so Back after a
 * form that changed things (creating an organization) shows the page as it is now, not the form
 * as it was. Renders nothing.
 */
export default function FreshOnBack() {
  useEffect(() => {
    const restored = (e: PageTransitionEvent) => e.persisted && location.reload();
    addEventListener("pageshow", restored);
    return () => removeEventListener("pageshow", restored);
  }, []);
  return null;
}
