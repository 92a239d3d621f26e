import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface UsageChartProps {
  /** UTC days, oldest first, "YYYY-MM-DD". */
  days: string[];
  requests: number[];
  spendCents: number[];
}

export const CHART_HEIGHT = 240;

/**
 * Daily requests (bars) and spend (line) for the last 30 days. The server reserves the chart's
 * height (.usage-chart), so nothing moves when this hydrates.
 */
export default function UsageChart(props: UsageChartProps) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = props.days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const spend = props.spendCents.map((c) => c / 100);
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: CHART_HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        cursor: { drag: { x: false, y: false } },
        legend: { show: true },
        scales: {
          // Half a day of room on each side, so the first and last bars are whole.
          x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
          requests: { range: (_u, _min, max) => [0, Math.max(1, max)] },
          usd: { range: (_u, _min, max) => [0, Math.max(0.01, max)] },
        },
        axes: [
          { stroke: "#5a5a6e", grid: { stroke: "#e2e2ec" } },
          {
            scale: "requests",
            stroke: "#5a5a6e",
            grid: { stroke: "#e2e2ec" },
            size: 44,
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000],
          },
          {
            scale: "usd",
            side: 1,
            stroke: "#5a5a6e",
            grid: { show: false },
            size: 56,
            values: (_u, ticks) => ticks.map((t) => "$" + t.toFixed(2)),
          },
        ],
        series: [
          {
            label: "Day",
            value: (_u, ts) => ts == null ? "" : new Date(ts * 1000).toISOString().slice(0, 10),
          },
          {
            label: "Requests",
            scale: "requests",
            stroke: "#4f46e5",
            fill: "rgba(79, 70, 229, 0.25)",
            paths: uPlot.paths.bars!({ size: [0.6, 24] }),
            points: { show: false },
          },
          {
            label: "Spend",
            scale: "usd",
            stroke: "#0f7b3e",
            width: 2,
            points: { show: false },
            value: (_u, v) => v == null ? "" : "$" + v.toFixed(2),
          },
        ],
      },
      [xs, props.requests, spend],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: CHART_HEIGHT }));
    resize.observe(el);
    el.dataset.ready = "";
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.days.join(), props.requests.join(), props.spendCents.join()]);

  return (
    <div
      class="usage-chart"
      ref={box}
      role="img"
      aria-label="Daily requests and spend, last 30 days"
    />
  );
}
