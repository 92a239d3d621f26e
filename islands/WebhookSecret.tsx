import { useSignal } from "@preact/signals";

/**
 * A signing secret shown once (after adding an endpoint or rotating), with a copy button.
 * Without JavaScript the secret is still there to select and copy by hand.
 */
export default function WebhookSecret(props: { secret: string; note: string }) {
  const copied = useSignal<"" | "copied" | "failed">("");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      copied.value = "copied";
    } catch {
      copied.value = "failed";
    }
  };
  return (
    <div class="card webhook-secret" role="status">
      <p class="eyebrow">Signing secret</p>
      <p>{props.note}</p>
      <div class="webhook-secret-row">
        <label class="field">
          <span class="visually-hidden">Signing secret</span>
          <input
            type="text"
            readOnly
            value={props.secret}
            data-testid="webhook-secret"
            spellcheck={false}
            onFocus={(e) => (e.target as HTMLInputElement).select()}
          />
        </label>
        <button type="button" class="button" onClick={copy}>
          {copied.value === "copied" ? "Copied" : "Copy"}
        </button>
      </div>
      <p class="webhook-hint" aria-live="polite">
        {copied.value === "failed" ? "Copying failed; select the secret and copy it by hand." : ""}
      </p>
    </div>
  );
}
