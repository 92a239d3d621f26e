import { formatCents } from "../lib/format.ts";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface UsageChartProps {
  /** UTC days, oldest first, "YYYY-MM-DD". */
  days: string[];
  /** One value a day: a count, or cents. */
  values: number[];
  unit: "requests" | "cents";
  /** What the chart shows, for its label and its series. */
  label: string;
}

export const CHART_HEIGHT = 220;

// Whole steps: 1, 2, 5 × 10^n requests; whole cents for money.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000];
const USD_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * Bars per day for one measure. The server reserves the chart's height (.usage-chart), so
 * nothing moves when this hydrates; the table beside it carries the same numbers as text.
 */
export default function UsageChart(props: UsageChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const money = props.unit === "cents";

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = props.days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const ys = money ? props.values.map((c) => c / 100) : props.values;
    const fmt = (v: number) => money ? formatCents(Math.round(v * 100)) : String(Math.round(v));
    const width = () => Math.max(260, el.clientWidth);
    // The page's own colours, so the chart follows the light or dark theme.
    const css = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const ink = color("--muted", "#5a5a6e");
    const grid = color("--border", "#e2e2ec");
    const line = color(money ? "--ok" : "--accent", money ? "#0f7b3e" : "#4f46e5");
    const plot = new uPlot(
      {
        width: width(),
        height: CHART_HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        cursor: { drag: { x: false, y: false } },
        // The legend would show empty values until hovered; the heading names the series.
        legend: { show: false },
        scales: {
          // A day of room on each side, so the first bar and today's are whole.
          x: { time: true, range: (_u, min, max) => [min - 86_400, max + 86_400] },
          y: { range: (_u, _min, max) => [0, Math.max(money ? 0.01 : 1, max)] },
        },
        axes: [
          { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } },
          {
            stroke: ink,
            grid: { stroke: grid },
            ticks: { stroke: grid },
            size: money ? 60 : 44,
            incrs: money ? USD_STEPS : COUNT_STEPS,
            values: (_u, ticks) => ticks.map(fmt),
          },
        ],
        series: [
          {
            label: "Day",
            value: (_u, ts) => ts == null ? "" : new Date(ts * 1000).toISOString().slice(0, 10),
          },
          {
            label: props.label,
            stroke: line,
            fill: line + "55", // the theme colours are #rrggbb: a third opaque
            paths: uPlot.paths.bars!({ size: [0.6, 24] }),
            points: { show: false },
            value: (_u, v) => v == null ? "" : fmt(v),
          },
        ],
      },
      [xs, ys],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: CHART_HEIGHT }));
    resize.observe(el);
    el.dataset.ready = "";
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.days.join(), props.values.join()]);

  return (
    <div
      class="usage-chart"
      ref={box}
      role="img"
      aria-label={`${props.label} per day, ${props.days.length} days`}
      data-unit={props.unit}
    />
  );
}
