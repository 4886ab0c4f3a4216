// The board's panels, drawn from the data the server evaluated: stat, gauge, time series
// and table, each placed on Grafana's 24-column grid.
import { useMemo, type CSSProperties, type ReactNode } from "react";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { PanelKind, type Panel, type Series } from "../../gen/switchboard/supervision/v1/board_pb";
import type { Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { TimeSeries, type Line } from "../../ui/TimeSeries";
import { formatValue } from "./format";
import { panelLevel, seriesLevel, type Level } from "./levels";

// rowHeight and gridGap are the height of one grid row and the gap between rows, in pixels
// (as in board.css); the panel's heading and uPlot's legend take panelChrome of a panel.
const rowHeight = 30;
const gridGap = 8;
const panelChrome = 110;

const levelClass = (level: Level | undefined) => (level ? `level-${level}` : "");

// lastValue is a series' value now: its last sample.
export function lastValue(series: Series): number | undefined {
  return series.samples.at(-1)?.value;
}

// legendOf names a series for people: its legend, else its labels.
export function legendOf(series: Series): string {
  if (series.legend) return series.legend;
  const labels = Object.entries(series.labels).map(([k, v]) => `${k}=${v}`);
  return labels.join(", ") || "value";
}

// PanelView is one panel as a region named by its title; children are drawn under its data,
// and alone when it has none (no "No data" above a list that says it better).
export function PanelView(props: { panel: Panel; signals: Signal[]; span?: Span; children?: ReactNode }) {
  const { panel, signals } = props;
  const level = panelLevel(panel, signals);
  const place = {
    "--x": panel.x + 1,
    "--y": panel.y + 1,
    "--w": Math.max(1, panel.width),
    "--h": Math.max(1, panel.height),
  } as CSSProperties;
  return (
    <section aria-label={panel.title} className={`panel ${levelClass(level)}`} style={place}>
      <header className="panel-head">
        <h2 title={panel.description}>{panel.title}</h2>
        {level && <span className={`level-dot ${level}`} role="img" aria-label={`Level ${level}`} title={`Level ${level}`} />}
      </header>
      <div className="panel-body">
        {panel.error ? (
          <p className="error">{panel.error}</p>
        ) : (
          (hasData(panel) || !props.children) && <PanelData panel={panel} signals={signals} panelLevel={level} span={props.span} />
        )}
        {props.children}
      </div>
    </section>
  );
}

const hasData = (panel: Panel) => panel.series.some((s) => s.samples.length > 0);

// PanelData draws the panel's series as its kind says.
function PanelData(props: { panel: Panel; signals: Signal[]; panelLevel: Level | undefined; span?: Span }) {
  const { panel } = props;
  if (!hasData(panel)) return <p className="muted no-data">No data</p>;
  switch (panel.kind) {
    case PanelKind.GAUGE:
      return <GaugePanel {...props} />;
    case PanelKind.TIME_SERIES:
      return <TimeSeriesPanel panel={panel} span={props.span} />;
    case PanelKind.TABLE:
      return <TablePanel panel={panel} signals={props.signals} />;
    default:
      return <StatPanel panel={panel} signals={props.signals} />;
  }
}

// StatPanel is one big number per series, coloured where the series carries a level.
function StatPanel(props: { panel: Panel; signals: Signal[] }) {
  const { panel, signals } = props;
  return (
    <ul className="stats">
      {panel.series.map((s, i) => {
        const value = lastValue(s) ?? NaN;
        return (
          <li key={i} className={`stat ${levelClass(seriesLevel(s, value, signals))}`}>
            <span className="stat-value">{formatValue(value, panel.unit)}</span>
            <span className="stat-legend">{legendOf(s)}</span>
          </li>
        );
      })}
    </ul>
  );
}

// GaugePanel is an arc per series between the panel's min and max, coloured by the level
// of the series or else of the panel.
function GaugePanel(props: { panel: Panel; signals: Signal[]; panelLevel: Level | undefined }) {
  const { panel, signals } = props;
  return (
    <ul className="gauges">
      {panel.series.map((s, i) => {
        const value = lastValue(s) ?? NaN;
        const level = seriesLevel(s, value, signals) ?? props.panelLevel;
        return (
          <li key={i} className="gauge">
            <Gauge value={value} min={panel.min} max={panel.max} unit={panel.unit} label={legendOf(s)} level={level} />
            <span className="stat-legend">{legendOf(s)}</span>
          </li>
        );
      })}
    </ul>
  );
}

// The gauge's arc spans 240 degrees, open at the bottom; angles are clockwise from the top.
const arcStart = -120;
const arcEnd = 120;

function polar(angle: number, radius: number): [number, number] {
  const rad = (angle * Math.PI) / 180;
  return [60 + radius * Math.sin(rad), 60 - radius * Math.cos(rad)];
}

function arcPath(from: number, to: number, radius: number): string {
  const [x0, y0] = polar(from, radius);
  const [x1, y1] = polar(to, radius);
  return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${radius} ${radius} 0 ${to - from > 180 ? 1 : 0} 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
}

export function Gauge(props: { value: number; min: number; max: number; unit: string; label: string; level?: Level }) {
  const { value, min, max } = props;
  const span = max > min ? max - min : 1;
  const share = Number.isFinite(value) ? Math.min(1, Math.max(0, (value - min) / span)) : 0;
  const to = arcStart + share * (arcEnd - arcStart);
  const text = formatValue(value, props.unit);
  return (
    <svg className={`gauge-svg ${levelClass(props.level)}`} viewBox="0 0 120 104" role="img" aria-label={`${props.label}: ${text}`}>
      <path className="gauge-track" d={arcPath(arcStart, arcEnd, 48)} />
      {share > 0 && <path className="gauge-fill" d={arcPath(arcStart, to, 48)} data-share={share.toFixed(3)} />}
      <text className="gauge-text" x="60" y="68" textAnchor="middle">
        {text}
      </text>
    </svg>
  );
}

// Span is the time range a time series covers, in seconds since the epoch.
export interface Span {
  from: number;
  to: number;
}

// seriesLines aligns the series on the union of their sample times (seconds), a gap where a
// series has no sample; the span's ends are times too, so the axis covers the whole range
// even while the samples cover part of it.
export function seriesLines(series: Series[], span?: Span): { times: number[]; lines: Line[] } {
  const times = new Set<number>(span ? [span.from, span.to] : []);
  const byTime = series.map((s) => {
    const m = new Map<number, number>();
    for (const sample of s.samples) {
      if (!sample.time) continue;
      const t = Math.round(timestampDate(sample.time).getTime() / 1000);
      times.add(t);
      m.set(t, sample.value);
    }
    return m;
  });
  const sorted = [...times].sort((a, b) => a - b);
  return {
    times: sorted,
    lines: series.map((s, i) => ({ label: legendOf(s), values: sorted.map((t) => byTime[i].get(t) ?? null) })),
  };
}

function TimeSeriesPanel(props: { panel: Panel; span?: Span }) {
  const { panel, span } = props;
  // The board is drawn again often; uPlot is given new data only with a new panel.
  const { times, lines } = useMemo(() => seriesLines(panel.series, span), [panel, span?.from, span?.to]);
  const height = Math.max(120, panel.height * rowHeight + (panel.height - 1) * gridGap - panelChrome);
  return <TimeSeries times={times} lines={lines} height={height} unit={panel.unit === "s" ? "s" : panel.unit === "percent" ? "%" : ""} title={panel.title} />;
}

const columnName = (label: string) => {
  const words = label.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
};

// TablePanel is a row per series: its labels as columns and its value last, the row
// coloured by the series' level.
function TablePanel(props: { panel: Panel; signals: Signal[] }) {
  const { panel, signals } = props;
  const columns = [...new Set(panel.series.flatMap((s) => Object.keys(s.labels)))].sort();
  const bar = panel.max > panel.min;
  return (
    <div className="table-wrap">
      <table className="panel-table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {columnName(c)}
              </th>
            ))}
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {panel.series.map((s, i) => {
            const value = lastValue(s) ?? NaN;
            const level = seriesLevel(s, value, signals);
            const share = Math.min(1, Math.max(0, (value - panel.min) / (panel.max - panel.min)));
            return (
              <tr key={i} className={levelClass(level)}>
                {columns.map((c) => (
                  <td key={c}>{s.labels[c] || <span className="muted">–</span>}</td>
                ))}
                <td className="value-cell">
                  {bar && Number.isFinite(value) && <span className="value-bar" style={{ width: `${share * 100}%` }} aria-hidden="true" />}
                  <span className="value-text">{formatValue(value, panel.unit)}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
