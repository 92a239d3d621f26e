/**
 * Fired on `window` when a generation on this page starts or changes (the Playground island);
 * islands/LiveSection.tsx refreshes its sections at once on it.
 */
export const GENERATION_CHANGED = "pv:generation-changed";

export function announceGenerationChanged(): void {
  dispatchEvent(new Event(GENERATION_CHANGED));
}
