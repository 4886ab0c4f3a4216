// SignalBadges shows the objectives a chat misses now, coloured by the level crossed.
import type { Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { levelClass } from "./format";

export function SignalBadges({ signals }: { signals: Signal[] }) {
  if (signals.length === 0) return null;
  return (
    <span className="signal-badges">
      {signals.map((s) => (
        <span key={s.id || `${s.objective}:${s.level}`} className={`badge ${levelClass(s.level)}`} title={s.summary || s.objective}>
          {s.metric || s.objective} · {levelClass(s.level)}
        </span>
      ))}
    </span>
  );
}
