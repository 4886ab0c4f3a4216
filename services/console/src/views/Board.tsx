// Board: the supervisor's real-time board. This container fetches and streams; BoardView
// draws. The board comes from WatchBoard (Live) or from GetBoard polled at the chosen
// interval; the agents table from GetAgentTable, per unit, and the signals raised over the
// time range from ListSignals, when asked, at the same pace (every 5 s when live). Unit,
// time range and refresh are kept in the address, so a board can be shared.
import { useEffect, useMemo, useState } from "react";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { errorText, isAbort } from "../api";
import type { AgentTableRow, Board as BoardData } from "../gen/switchboard/supervision/v1/board_pb";
import type { Signal } from "../gen/switchboard/supervision/v1/signal_pb";
import { useSession } from "../session";
import { mergeAgentRows } from "./board/AgentTable";
import { BoardView, refreshChoices, timeRanges, type Refresh } from "./board/BoardView";
import { keepStreaming } from "../ui/retry";
import "./board.css";

// livePollPeriod is how often the agents table (and the signals' history, when shown) is
// fetched again while the board is live: the board stream itself comes at least every 5 s.
const livePollPeriod = 5;

// historyLimit caps the signals listed over a time range: the newest first.
const historyLimit = 200;

interface BoardState {
  board?: BoardData;
  signals: Signal[];
  updatedAt?: Date;
  loading: boolean;
  error: string;
  reconnecting: string;
}

interface TableState {
  rows: AgentTableRow[];
  caption: string;
  loading: boolean;
  error: string;
}

const emptyBoard: BoardState = { signals: [], loading: true, error: "", reconnecting: "" };
const emptyTable: TableState = { rows: [], caption: "", loading: true, error: "" };
const emptyHistory = { signals: [] as Signal[], loading: true, error: "" };

function withBoard(board: BoardData): BoardState {
  const updatedAt = board.evaluatedAt ? timestampDate(board.evaluatedAt) : new Date();
  return { board, signals: board.signals, updatedAt, loading: false, error: "", reconnecting: "" };
}

// withSignal applies a signal raised (no cleared_at) or cleared to the active ones.
export function withSignal(active: Signal[], signal: Signal): Signal[] {
  const others = active.filter((s) => s.id !== signal.id);
  return signal.clearedAt ? others : [...others, signal];
}

// every runs fetch now and then every periodSeconds (never when 0) until signal aborts.
function every(periodSeconds: number, fetch: () => Promise<void>, signal: AbortSignal) {
  void fetch();
  if (periodSeconds <= 0) return;
  const timer = setInterval(fetch, periodSeconds * 1000);
  signal.addEventListener("abort", () => clearInterval(timer));
}

// pollPeriod is how often unary figures are fetched again at a refresh choice.
function pollPeriod(refresh: Refresh): number {
  if (refresh === "live") return livePollPeriod;
  return refresh === "off" ? 0 : Number(refresh);
}

interface Choices {
  unit: string;
  rangeSeconds: number;
  refresh: Refresh;
}

function readChoices(units: string[]): Choices {
  const q = new URLSearchParams(window.location.search);
  const unit = q.get("unit") ?? "";
  const range = Number(q.get("range"));
  const refresh = q.get("refresh") as Refresh;
  return {
    unit: units.includes(unit) ? unit : "",
    rangeSeconds: timeRanges.some((r) => r.seconds === range) ? range : 3600,
    refresh: refreshChoices.some((r) => r.value === refresh) ? refresh : "live",
  };
}

function writeChoices(c: Choices) {
  const q = new URLSearchParams();
  if (c.unit) q.set("unit", c.unit);
  q.set("range", String(c.rangeSeconds));
  q.set("refresh", c.refresh);
  window.history.replaceState(window.history.state, "", `${window.location.pathname}?${q}`);
}

export function Board(_props: { route: string }) {
  const { clients, grants } = useSession();
  const units = useMemo(() => grants.filter((g) => g.permissions.length > 0).map((g) => g.businessUnit), [grants]);
  const [choices, setChoices] = useState(() => readChoices(units));
  const { unit, rangeSeconds, refresh } = choices;
  const [state, setState] = useState<BoardState>(emptyBoard);
  const [table, setTable] = useState<TableState>(emptyTable);
  const [showHistory, setShowHistory] = useState(false);
  const [history, setHistory] = useState(emptyHistory);
  // refreshes counts "Refresh now" clicks: each fetches again.
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => writeChoices(choices), [choices]);

  // Neither the board nor the table of another unit is shown while the new one loads.
  useEffect(() => {
    setState(emptyBoard);
    setTable(emptyTable);
  }, [unit]);

  useEffect(() => {
    const abort = new AbortController();
    const req = { businessUnit: unit, rangeSeconds };
    if (refresh === "live") {
      void keepStreaming(
        abort.signal,
        async (alive) => {
          for await (const r of clients.supervision.watchBoard(req, { signal: abort.signal })) {
            alive();
            const { board, signal } = r;
            if (board) setState(withBoard(board));
            else if (signal) setState((s) => ({ ...s, signals: withSignal(s.signals, signal) }));
          }
        },
        (err, retrying) =>
          setState((s) => (retrying ? { ...s, loading: false, reconnecting: errorText(err) } : { ...s, loading: false, reconnecting: "", error: errorText(err) })),
      );
    } else {
      const poll = async () => {
        try {
          const r = await clients.supervision.getBoard(req, { signal: abort.signal });
          const board = r.board;
          if (board) setState(withBoard(board));
        } catch (err) {
          if (!abort.signal.aborted && !isAbort(err)) setState((s) => ({ ...s, loading: false, reconnecting: "", error: errorText(err) }));
        }
      };
      every(pollPeriod(refresh), poll, abort.signal);
    }
    return () => abort.abort();
  }, [clients, unit, rangeSeconds, refresh, refreshes]);

  useEffect(() => {
    const abort = new AbortController();
    const tableUnits = unit ? [unit] : units;
    const load = async () => {
      try {
        const tables = await Promise.all(tableUnits.map((u) => clients.supervision.getAgentTable({ businessUnit: u }, { signal: abort.signal })));
        const first = tables[0];
        setTable({
          rows: mergeAgentRows(tables.map((t) => t.rows)),
          caption: first ? `Today ${first.day} (${first.timeZone})` : "",
          loading: false,
          error: "",
        });
      } catch (err) {
        if (!abort.signal.aborted && !isAbort(err)) setTable((t) => ({ ...t, loading: false, error: errorText(err) }));
      }
    };
    every(pollPeriod(refresh), load, abort.signal);
    return () => abort.abort();
  }, [clients, unit, units, refresh, refreshes]);

  useEffect(() => {
    if (!showHistory) return;
    const abort = new AbortController();
    const load = async () => {
      try {
        const from = timestampFromDate(new Date(Date.now() - rangeSeconds * 1000));
        const r = await clients.supervision.listSignals({ businessUnit: unit, from, limit: historyLimit }, { signal: abort.signal });
        setHistory({ signals: r.signals, loading: false, error: "" });
      } catch (err) {
        if (!abort.signal.aborted && !isAbort(err)) setHistory((h) => ({ ...h, loading: false, error: errorText(err) }));
      }
    };
    setHistory(emptyHistory);
    every(pollPeriod(refresh), load, abort.signal);
    return () => abort.abort();
  }, [clients, unit, rangeSeconds, refresh, refreshes, showHistory]);

  return (
    <BoardView
      units={units}
      unit={unit}
      onUnit={(u) => setChoices((c) => ({ ...c, unit: u }))}
      rangeSeconds={rangeSeconds}
      onRange={(r) => setChoices((c) => ({ ...c, rangeSeconds: r }))}
      refresh={refresh}
      onRefresh={(r) => setChoices((c) => ({ ...c, refresh: r }))}
      onRefreshNow={() => setRefreshes((n) => n + 1)}
      board={state.board}
      signals={state.signals}
      updatedAt={state.updatedAt}
      loading={state.loading}
      error={state.error}
      reconnecting={state.reconnecting}
      agentTable={table}
      showHistory={showHistory}
      onShowHistory={setShowHistory}
      history={history}
    />
  );
}
