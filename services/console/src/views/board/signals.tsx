// Signals as the supervision views show them: a badge of the level, and a list of the
// signals active now, the worst and oldest first.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { formatDuration } from "./format";
import { levelOf } from "./levels";
import { useNow } from "./useNow";

// signalText is a signal in a sentence: the server's summary, or what it measures.
export function signalText(s: Signal): string {
  return s.summary || `${s.objective}: ${s.metric}`;
}

export function SignalBadge(props: { signal: Signal }) {
  const level = levelOf(props.signal);
  return (
    <span className={`badge ${level}`} title={signalText(props.signal)}>
      {level}
    </span>
  );
}

// SignalCounts is one badge per level with how many signals are at it ("2 critical").
export function SignalCounts(props: { signals: Signal[] }) {
  const critical = props.signals.filter((s) => levelOf(s) === "critical");
  const warning = props.signals.filter((s) => levelOf(s) === "warning");
  return (
    <span className="signal-counts">
      {critical.length > 0 && (
        <span className="badge critical" title={critical.map(signalText).join("\n")}>
          {critical.length} critical
        </span>
      )}
      {warning.length > 0 && (
        <span className="badge warning" title={warning.map(signalText).join("\n")}>
          {warning.length} warning
        </span>
      )}
    </span>
  );
}

// bySeverity orders signals critical first, then oldest first.
export function bySeverity(a: Signal, b: Signal): number {
  const rank = (s: Signal) => (levelOf(s) === "critical" ? 0 : 1);
  return rank(a) - rank(b) || since(a) - since(b);
}

function since(s: Signal): number {
  return s.since ? timestampDate(s.since).getTime() : 0;
}

// SignalList lists the active signals with how long each has lasted, ticking; now fixes
// the time instead.
export function SignalList(props: { signals: Signal[]; now?: number }) {
  const ticking = useNow(1000);
  const now = props.now ?? ticking;
  if (props.signals.length === 0) return <p className="muted">No objective is missed now.</p>;
  return (
    <ul className="signal-list" aria-label="Signals active now">
      {[...props.signals].sort(bySeverity).map((s) => (
        <li key={s.id} className={`level-${levelOf(s)}`}>
          <SignalBadge signal={s} />
          <span className="signal-text">{signalText(s)}</span>
          <span className="muted">
            {[s.agent, s.businessUnit].filter(Boolean).join(" · ")}
            {s.since && ` · for ${formatDuration((now - since(s)) / 1000)}`}
          </span>
        </li>
      ))}
    </ul>
  );
}

// SignalHistory lists the signals raised over a span, newest first (as ListSignals gives
// them), with when each was raised and cleared.
export function SignalHistory(props: { signals: Signal[]; loading: boolean; error: string }) {
  if (props.error) {
    return (
      <p role="alert" className="error">
        {props.error}
      </p>
    );
  }
  if (props.loading && props.signals.length === 0) return <p className="muted">Loading signals…</p>;
  if (props.signals.length === 0) return <p className="muted">No objective was missed in this time range.</p>;
  return (
    <ul className="signal-list" aria-label="Signals in the time range">
      {props.signals.map((s) => (
        <li key={s.id} className={`level-${levelOf(s)}`}>
          <SignalBadge signal={s} />
          <span className="signal-text">{signalText(s)}</span>
          <span className="muted">
            {[s.agent, s.businessUnit].filter(Boolean).join(" · ")}
            {s.since && ` · raised ${timestampDate(s.since).toLocaleTimeString()}`}
            {s.clearedAt ? ` · cleared ${timestampDate(s.clearedAt).toLocaleTimeString()}` : " · still active"}
          </span>
        </li>
      ))}
    </ul>
  );
}
