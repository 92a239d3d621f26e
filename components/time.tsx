import { formatWhen, type TimePrecision } from "../lib/format.ts";

/**
 * A time as a person reads it, with the exact value kept in `datetime` and the tooltip; the
 * LocalTimes island rewrites the words into the viewer's time zone.
 */
export function When(props: { ms: number | null | undefined; precision?: TimePrecision }) {
  if (props.ms === null || props.ms === undefined) return <>—</>;
  const iso = new Date(props.ms).toISOString();
  const precision = props.precision ?? "minute";
  return (
    <time dateTime={iso} title={iso} data-precision={precision}>
      {formatWhen(props.ms, precision)}
    </time>
  );
}
