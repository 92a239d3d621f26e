import type { ComponentChildren } from "preact";

/** Server-only building blocks shared by the dashboard pages. */

export function PageHeader(
  props: { title: string; description?: ComponentChildren; actions?: ComponentChildren },
) {
  return (
    <div class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.description && <p class="lead">{props.description}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </div>
  );
}

export function EmptyState(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state">
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}

export type FlashKind = "success" | "error" | "info" | "warning";

/** A message about what just happened; errors are announced to screen readers at once. */
export function Flash(props: { kind?: FlashKind; children: ComponentChildren }) {
  const kind = props.kind ?? "info";
  return (
    <div class={`flash flash-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

/** A labelled form field with its error (if any) right below it, tied by aria-describedby. */
export function Field(
  props: {
    id: string;
    label: string;
    error?: string | null;
    hint?: ComponentChildren;
    children: ComponentChildren;
  },
) {
  return (
    <div class="field">
      <label for={props.id}>
        <span>{props.label}</span>
      </label>
      {props.children}
      {props.hint && <small class="hint" id={`${props.id}-hint`}>{props.hint}</small>}
      {props.error && <p class="field-error" id={`${props.id}-error`}>{props.error}</p>}
    </div>
  );
}

/** aria attributes for an input whose Field may show an error or hint. */
export function fieldAria(id: string, error?: string | null, hint = false) {
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return {
    id,
    "aria-invalid": error ? "true" as const : undefined,
    "aria-describedby": describedBy.length ? describedBy.join(" ") : undefined,
  };
}

/** A table that scrolls sideways on narrow screens instead of breaking the layout. */
export function DataTable(props: { caption: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={props.caption} tabIndex={0}>
      <table class="data-table">
        <caption class="visually-hidden">{props.caption}</caption>
        {props.children}
      </table>
    </div>
  );
}
