// The agents a supervisor watches: status, load against capacity, and the objectives each
// misses now. Each agent's name is a button that opens its conversations.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AgentStatus } from "../../gen/switchboard/chat/v1/chat_pb";
import type { AgentLoad } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { formatDuration } from "../board/format";
import { highest, type Level } from "../board/levels";
import { SignalBadge } from "../board/signals";
import { statusClass, statusName } from "../board/status";

// loadLevel colours a load bar: ok with room left, warning when full, critical over
// capacity (transfers can push an agent past it).
export function loadLevel(open: number, capacity: number): Level {
  if (open > capacity) return "critical";
  return open === capacity && capacity > 0 ? "warning" : "ok";
}

const statusOrder = [AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.AWAY, AgentStatus.OFFLINE];

// byPresence lists the agents online first (available, busy, away), then by name.
export function byPresence(a: AgentLoad, b: AgentLoad): number {
  const rank = (x: AgentLoad) => {
    const i = statusOrder.indexOf(x.status);
    return i < 0 ? statusOrder.length : i;
  };
  return rank(a) - rank(b) || nameOf(a).localeCompare(nameOf(b));
}

export function nameOf(a: AgentLoad): string {
  return a.displayName || a.agent;
}

export function AgentList(props: { agents: AgentLoad[]; selected: string; onSelect: (agent: string) => void; now: number }) {
  return (
    <ul className="agent-list" aria-label="Agents">
      {[...props.agents].sort(byPresence).map((a) => (
        <AgentCard key={a.agent} agent={a} selected={a.agent === props.selected} onSelect={props.onSelect} now={props.now} />
      ))}
    </ul>
  );
}

function AgentCard(props: { agent: AgentLoad; selected: boolean; onSelect: (agent: string) => void; now: number }) {
  const { agent: a } = props;
  const name = nameOf(a);
  const level = loadLevel(a.openConversations, a.capacity);
  const share = a.capacity > 0 ? Math.min(1, a.openConversations / a.capacity) : a.openConversations > 0 ? 1 : 0;
  const signalLevel = a.signals.length > 0 ? highest(a.signals) : undefined;
  return (
    <li className={`agent-card ${props.selected ? "selected" : ""} ${signalLevel ? `signalled-${signalLevel}` : ""}`}>
      <div className="agent-head">
        <button type="button" className="agent-name" aria-pressed={props.selected} onClick={() => props.onSelect(a.agent)}>
          {name}
        </button>
        <span className="agent-presence">
          <span className={`status ${statusClass(a.status)}`}>{statusName(a.status)}</span>
          {a.statusSince && <span className="muted"> for {formatDuration((props.now - timestampDate(a.statusSince).getTime()) / 1000)}</span>}
        </span>
      </div>
      <div className="load">
        <div
          className={`meter level-${level}`}
          role="meter"
          aria-label={name}
          aria-valuemin={0}
          aria-valuemax={a.capacity}
          aria-valuenow={a.openConversations}
          aria-valuetext={`${a.openConversations} of ${a.capacity} conversations`}
        >
          <span className="meter-fill" style={{ width: `${share * 100}%` }} />
        </div>
        <span className="load-text">
          {a.openConversations}/{a.capacity}
        </span>
      </div>
      {a.signals.length > 0 && (
        <ul className="agent-signals" aria-label={`Signals of ${name}`}>
          {a.signals.map((s) => (
            <li key={s.id}>
              <SignalBadge signal={s} /> <span className="signal-text">{s.summary || s.objective}</span>
            </li>
          ))}
        </ul>
      )}
      {a.businessUnits.length > 0 && <span className="muted agent-units">{a.businessUnits.join(", ")}</span>}
    </li>
  );
}
