// TimeSeries draws series over time with uPlot, sized to its box and redrawn when the data
// changes. Times are seconds since the epoch.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line {
  label: string;
  values: (number | null)[];
  color?: string;
}

const palette = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a"];

// xLabel, when given, labels the time axis' ticks instead of uPlot's dates (e.g. hours of a day).
export function TimeSeries(props: { times: number[]; lines: Line[]; height?: number; unit?: string; title?: string; bars?: boolean; xLabel?: (seconds: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { times, lines, height = 220, unit = "", title, bars = false, xLabel } = props;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      title,
      legend: { show: true },
      axes: [
        { stroke: "#8e8e93", grid: { stroke: "#2c3038" }, values: xLabel && ((_u, vals) => vals.map((v) => (v == null ? "" : xLabel(v)))) },
        { stroke: "#8e8e93", grid: { stroke: "#2c3038" }, values: (_u, vals) => vals.map((v) => (v == null ? "" : `${v}${unit}`)) },
      ],
      series: [
        { value: xLabel && ((_u, v) => (v == null ? "--" : xLabel(v))) },
        ...lines.map((l, i) => ({
          label: l.label,
          stroke: l.color ?? palette[i % palette.length],
          fill: bars ? (l.color ?? palette[i % palette.length]) + "88" : undefined,
          paths: bars ? uPlot.paths.bars!({ size: [0.6, 40] }) : undefined,
          width: 1.5,
          spanGaps: false,
        })),
      ],
    };
    const u = new uPlot(opts, [times, ...lines.map((l) => l.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The plot is rebuilt when the set of lines changes; new values only update the data.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lines.length, lines.map((l) => l.label).join("\u0000"), height, unit, title, bars, xLabel]);

  useEffect(() => {
    plot.current?.setData([times, ...lines.map((l) => l.values)] as uPlot.AlignedData);
  }, [times, lines]);

  return <div ref={box} className="timeseries" role="img" aria-label={title ?? lines.map((l) => l.label).join(", ")} />;
}
