// The agents table of the board: each agent's day so far in the unit (presence, contacts,
// handling time, turnover, conversion, satisfaction) and what it holds now, with a marker
// where an objective is missed.
import type { AgentTableRow, Money } from "../../gen/switchboard/supervision/v1/board_pb";
import type { Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { formatDuration, formatValue } from "./format";
import { highest } from "./levels";
import { SignalCounts } from "./signals";
import { statusClass, statusName } from "./status";

export interface AgentTableProps {
  rows: AgentTableRow[];
  // liveSignals are the signals active now from the board stream, fresher than the rows'
  // own; undefined until the board arrived.
  liveSignals?: Signal[];
  // unitSelected is true when the table is of one unit: "in progress" then counts that
  // unit's conversations and says how many the agent holds in all.
  unitSelected: boolean;
  loading: boolean;
  error: string;
  caption: string;
}

function money(m: Money): string {
  const amount = Number(m.amount);
  if (!Number.isFinite(amount)) return `${m.amount} ${m.currency}`;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).format(amount);
  } catch {
    return `${m.amount} ${m.currency}`;
  }
}

function signalsOf(row: AgentTableRow, live: Signal[] | undefined): Signal[] {
  return live ? live.filter((s) => s.agent === row.agent) : row.signals;
}

export function AgentTable(props: AgentTableProps) {
  const { rows } = props;
  return (
    <section aria-label="Agents today" className="panel agent-table-panel">
      <header className="panel-head">
        <h2>Agents today</h2>
        <span className="muted">{props.caption}</span>
      </header>
      {props.error && (
        <p role="alert" className="error">
          {props.error}
        </p>
      )}
      {props.loading && rows.length === 0 && <p className="muted">Loading agents…</p>}
      {!props.loading && !props.error && rows.length === 0 && <p className="empty">No agent in this unit.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Agents today" className="agent-table">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Status</th>
                <th scope="col">Presence</th>
                <th scope="col">Contacts</th>
                <th scope="col">
                  <abbr title="Average handling time">AHT</abbr>
                </th>
                <th scope="col">Contacts/hour</th>
                <th scope="col">Turnover</th>
                <th scope="col">Conversion</th>
                <th scope="col">Satisfaction</th>
                <th scope="col">In progress</th>
                <th scope="col">Signals</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const signals = signalsOf(r, props.liveSignals);
                const level = signals.length > 0 ? highest(signals) : undefined;
                return (
                  <tr key={r.agent} className={level ? `signal-row level-${level}` : undefined}>
                    <th scope="row">{r.displayName || r.agent}</th>
                    <td>
                      <span className={`status ${statusClass(r.status)}`}>{statusName(r.status)}</span>
                    </td>
                    <td>{formatDuration(Number(r.presenceSeconds))}</td>
                    <td>{r.contacts}</td>
                    <td>{r.averageHandlingSeconds > 0 ? formatDuration(r.averageHandlingSeconds) : "–"}</td>
                    <td>{formatValue(r.contactsPerHour, "short")}</td>
                    <td>{r.turnover.length > 0 ? r.turnover.map(money).join(" + ") : "–"}</td>
                    <td>
                      {formatValue(r.conversionRate, "percentunit")} <span className="muted">({r.transactions})</span>
                    </td>
                    <td>
                      {r.ratings > 0 ? (
                        <>
                          {formatValue(r.satisfaction, "short")}/5 <span className="muted">({r.ratings})</span>
                        </>
                      ) : (
                        "–"
                      )}
                    </td>
                    <td>
                      {props.unitSelected ? r.inProgressUnit : r.inProgressAll}
                      {props.unitSelected && r.inProgressAll !== r.inProgressUnit && <span className="muted"> ({r.inProgressAll} in all units)</span>}
                    </td>
                    <td>
                      <SignalCounts signals={signals} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// mergeAgentRows joins the tables of several units into one row per agent: the figures are
// the agent's over every unit already, so the first row of each agent stands, with the
// signals of all its rows.
export function mergeAgentRows(tables: AgentTableRow[][]): AgentTableRow[] {
  const byAgent = new Map<string, AgentTableRow>();
  for (const row of tables.flat()) {
    const seen = byAgent.get(row.agent);
    if (!seen) {
      byAgent.set(row.agent, { ...row, signals: [...row.signals] });
      continue;
    }
    for (const s of row.signals) if (!seen.signals.some((x) => x.id === s.id)) seen.signals.push(s);
  }
  return [...byAgent.values()].sort((a, b) => (a.displayName || a.agent).localeCompare(b.displayName || b.agent));
}
