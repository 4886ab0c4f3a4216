// The board as a supervisor sees it: the toolbar (unit, time range, refresh), the panel
// grid, and the agents table. It draws what it is given; Board.tsx fetches and streams.
import type { ReactNode } from "react";
import type { Board } from "../../gen/switchboard/supervision/v1/board_pb";
import type { Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { AgentTable, type AgentTableProps } from "./AgentTable";
import { PanelView } from "./panels";
import { SignalHistory, SignalList } from "./signals";

export const timeRanges = [
  { seconds: 900, label: "Last 15 minutes" },
  { seconds: 3600, label: "Last 1 hour" },
  { seconds: 21600, label: "Last 6 hours" },
  { seconds: 86400, label: "Last 24 hours" },
];

// Refresh is how the board stays current: the live stream, polling every so many seconds,
// or not at all.
export type Refresh = "live" | "5" | "30" | "60" | "off";

export const refreshChoices: { value: Refresh; label: string }[] = [
  { value: "live", label: "Live" },
  { value: "5", label: "5s" },
  { value: "30", label: "30s" },
  { value: "60", label: "1m" },
  { value: "off", label: "Off" },
];

// signalsPanel is the panel the list of active signals is drawn in, under its counts.
const signalsPanel = "signals";

export interface BoardViewProps {
  units: string[];
  unit: string;
  onUnit: (unit: string) => void;
  rangeSeconds: number;
  onRange: (seconds: number) => void;
  refresh: Refresh;
  onRefresh: (refresh: Refresh) => void;
  onRefreshNow: () => void;
  board?: Board;
  // signals are the active signals: the board's, kept current by the stream.
  signals: Signal[];
  updatedAt?: Date;
  loading: boolean;
  error: string;
  // reconnecting says why the live stream dropped, while it is opened again.
  reconnecting: string;
  agentTable: Omit<AgentTableProps, "liveSignals" | "unitSelected">;
  // showHistory lists the signals raised over the time range instead of those active now.
  showHistory: boolean;
  onShowHistory: (show: boolean) => void;
  history: { signals: Signal[]; loading: boolean; error: string };
}

export function BoardView(props: BoardViewProps) {
  const { board } = props;
  const hasSignalsPanel = board?.panels.some((p) => p.id === signalsPanel) ?? false;
  const to = board?.evaluatedAt ? Number(board.evaluatedAt.seconds) : undefined;
  const span = to === undefined ? undefined : { from: to - props.rangeSeconds, to };
  return (
    <div className="board">
      <BoardToolbar {...props} />
      {props.error && (
        <p role="alert" className="error">
          {props.error}
        </p>
      )}
      {!board && props.loading && <p className="muted">Loading the board…</p>}
      {board && (
        <div className="board-grid">
          {board.panels.map((p) => (
            <PanelView key={p.id} panel={p} signals={props.signals} span={span}>
              {p.id === signalsPanel && <SignalsBody {...props} />}
            </PanelView>
          ))}
        </div>
      )}
      {board && !hasSignalsPanel && (
        <Section title="Active signals">
          <SignalsBody {...props} />
        </Section>
      )}
      <AgentTable {...props.agentTable} liveSignals={board ? props.signals : undefined} unitSelected={props.unit !== ""} />
    </div>
  );
}

// SignalsBody is the signals active now, or those raised over the time range.
function SignalsBody(props: BoardViewProps) {
  return (
    <>
      <div className="segmented" role="group" aria-label="Signals shown">
        <button type="button" aria-pressed={!props.showHistory} onClick={() => props.onShowHistory(false)}>
          Active now
        </button>
        <button type="button" aria-pressed={props.showHistory} onClick={() => props.onShowHistory(true)}>
          In the time range
        </button>
      </div>
      {props.showHistory ? <SignalHistory {...props.history} /> : <SignalList signals={props.signals} />}
    </>
  );
}

function Section(props: { title: string; children: ReactNode }) {
  return (
    <section aria-label={props.title} className="panel">
      <header className="panel-head">
        <h2>{props.title}</h2>
      </header>
      <div className="panel-body">{props.children}</div>
    </section>
  );
}

function BoardToolbar(props: BoardViewProps) {
  return (
    <div className="toolbar board-toolbar">
      <label>
        Business unit
        <select value={props.unit} onChange={(e) => props.onUnit(e.target.value)}>
          <option value="">All units</option>
          {props.units.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </label>
      <label>
        Time range
        <select value={props.rangeSeconds} onChange={(e) => props.onRange(Number(e.target.value))}>
          {timeRanges.map((r) => (
            <option key={r.seconds} value={r.seconds}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Refresh
        <select value={props.refresh} onChange={(e) => props.onRefresh(e.target.value as Refresh)}>
          {refreshChoices.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      {props.refresh !== "live" && (
        <button type="button" onClick={props.onRefreshNow}>
          Refresh now
        </button>
      )}
      <p className="board-status" role="status">
        {props.reconnecting ? (
          <span className="reconnecting">Live updates lost ({props.reconnecting}); reconnecting…</span>
        ) : (
          props.refresh === "live" && props.board && <span className="live-dot">Live</span>
        )}
        {props.updatedAt && (
          <span className="muted">
            Last updated <time dateTime={props.updatedAt.toISOString()}>{props.updatedAt.toLocaleTimeString()}</time>
            {props.board?.source && ` · ${props.board.source}`}
          </span>
        )}
      </p>
    </div>
  );
}
