import type { GettingStarted } from "../lib/dashboard/checklist.ts";

/** "Get started": the first steps of a new organization, ticked from its real state. */
export function GetStartedChecklist(props: { state: GettingStarted; development: boolean }) {
  const s = props.state;
  const items = [
    {
      id: "credits",
      done: s.credits,
      title: "Add credits",
      body: props.development
        ? "This development server granted a starting amount; add more on Billing."
        : "Generations are prepaid: add funds on Billing.",
      href: "/billing",
      action: "Billing",
    },
    {
      id: "generated",
      done: s.generated,
      title: "Generate a video",
      body: "Try local/preview below: it renders in seconds and costs cents.",
      href: "#pg-result-title",
      action: "Try it",
    },
    {
      id: "key",
      done: s.key,
      title: "Create an API key",
      body: "You get a ready curl command with the key in it to copy.",
      href: "/keys",
      action: "Keys",
    },
    {
      id: "webhook",
      done: s.webhook,
      title: "Add a webhook",
      body: "Be told when a generation ends instead of polling.",
      href: "/webhooks",
      action: "Webhooks",
    },
  ];
  const left = items.filter((i) => !i.done).length;
  return (
    <section class="card get-started" aria-labelledby="get-started-title" data-testid="checklist">
      <h2 id="get-started-title">Get started</h2>
      <p class="muted">{left} of {items.length} steps left.</p>
      <ul class="checklist">
        {items.map((i) => (
          <li key={i.id} class={i.done ? "done" : ""} data-step={i.id} data-done={String(i.done)}>
            <span class="tick" aria-hidden="true">{i.done ? "✓" : ""}</span>
            <span>
              <span class="check-title">{i.title}</span>
              <span class="visually-hidden">{i.done ? " (done)" : " (to do)"}</span>
              {!i.done && (
                <>
                  {" — "}
                  {i.body} <a href={i.href}>{i.action}</a>
                </>
              )}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
