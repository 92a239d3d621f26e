import type { GenerationRecord } from "../lib/db/generations.ts";
import { formatCents } from "../lib/format.ts";
import { When } from "./time.tsx";

export function StatusBadge(props: { status: GenerationRecord["status"] }) {
  return <span class={`status status-${props.status}`}>{props.status}</span>;
}

/** The org's latest generations, each linking to its page. */
export function RecentRuns(props: { runs: GenerationRecord[] }) {
  if (props.runs.length === 0) {
    return <p class="muted">No runs yet. Your first one appears here.</p>;
  }
  return (
    <ul class="run-list">
      {props.runs.map((g) => (
        <li key={g.id} class="card run-item" data-id={g.id}>
          <a href={`/generations/${g.id}`} class="run-prompt">{g.options.prompt}</a>
          <span class="run-meta">
            <StatusBadge status={g.status} /> <code>{g.model}</code> {g.options.duration} s ·{" "}
            {g.options.resolution} · {formatCents(g.cost_cents ?? g.charged_cents)} ·{" "}
            <When ms={g.created_at} precision="second" />
          </span>
        </li>
      ))}
    </ul>
  );
}

/** The generation a webhook delivery's event is about, if any. */
export function generationOfDelivery(body: string): string | null {
  return /"(gen_[0-9A-HJKMNP-TV-Z]{26})"/.exec(body)?.[1] ?? null;
}
