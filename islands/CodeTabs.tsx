import { useSignal } from "@preact/signals";
import CopyButton from "./CopyButton.tsx";

export interface CodeSample {
  label: string;
  code: string;
}

/** The same request in several languages: one tab each, with a copy button. */
export default function CodeTabs(props: { samples: CodeSample[]; id: string }) {
  const active = useSignal(0);
  const select = (i: number) => {
    active.value = i;
    document.getElementById(`${props.id}-tab-${i}`)?.focus();
  };
  const onKey = (e: KeyboardEvent) => {
    const n = props.samples.length;
    if (e.key === "ArrowRight") select((active.value + 1) % n);
    else if (e.key === "ArrowLeft") select((active.value + n - 1) % n);
  };
  return (
    <div class="code-tabs">
      <div class="code-tabs-bar">
        <div role="tablist" aria-label="Language" onKeyDown={onKey}>
          {props.samples.map((s, i) => (
            <button
              key={s.label}
              type="button"
              role="tab"
              id={`${props.id}-tab-${i}`}
              aria-selected={i === active.value ? "true" : "false"}
              aria-controls={`${props.id}-panel-${i}`}
              tabIndex={i === active.value ? 0 : -1}
              onClick={() => select(i)}
            >
              {s.label}
            </button>
          ))}
        </div>
        <CopyButton value={props.samples[active.value].code} label="Copy" />
      </div>
      {props.samples.map((s, i) => (
        <pre
          key={s.label}
          role="tabpanel"
          id={`${props.id}-panel-${i}`}
          aria-labelledby={`${props.id}-tab-${i}`}
          hidden={i !== active.value}
          tabIndex={0}
        ><code>{s.code}</code></pre>
      ))}
    </div>
  );
}
