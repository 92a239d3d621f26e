import { useSignal } from "@preact/signals";

/** Copies `value` to the clipboard; says so in a live region for screen readers. */
export default function CopyButton(props: { value: string; label?: string }) {
  const status = useSignal<"idle" | "copied" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      status.value = "copied";
    } catch {
      status.value = "failed";
    }
    setTimeout(() => status.value = "idle", 2500);
  };
  return (
    <span class="copy-button">
      <button type="button" class="button small" onClick={copy} data-testid="copy-button">
        {status.value === "copied" ? "Copied" : props.label ?? "Copy"}
      </button>
      <span class="visually-hidden" role="status" aria-live="polite">
        {status.value === "copied"
          ? "Copied to the clipboard"
          : status.value === "failed"
          ? "Could not copy; select the text and copy it by hand"
          : ""}
      </span>
    </span>
  );
}
