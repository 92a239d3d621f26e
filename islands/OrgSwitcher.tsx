import { useEffect } from "preact/hooks";
import { useSignal } from "@preact/signals";

/**
 * The header's organization picker: choosing one switches at once (the form posts on change).
 * Without JavaScript the form keeps its button.
 */
export default function OrgSwitcher(
  props: { orgs: { id: string; name: string }[]; current: string; next: string },
) {
  // The button is for browsers without JavaScript: gone once this runs.
  const live = useSignal(false);
  useEffect(() => {
    live.value = true;
  }, []);
  return (
    <form method="post" action="/orgs/switch" class="org-switcher">
      <label for="org-switch" class="visually-hidden">Organization</label>
      <select
        id="org-switch"
        name="org_id"
        onChange={(e) => (e.currentTarget as HTMLSelectElement).form?.requestSubmit()}
      >
        {props.orgs.map((o) => (
          <option key={o.id} value={o.id} selected={o.id === props.current}>{o.name}</option>
        ))}
      </select>
      <input type="hidden" name="next" value={props.next} />
      {!live.value && <button type="submit" class="button small">Switch</button>}
    </form>
  );
}
