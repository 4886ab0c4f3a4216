// ReportControls chooses what a report covers: unit, agent, days and time zone.

export interface ReportQuery {
  unit: string; // "" is every unit where the user holds AllChats
  agent: string; // "" is all agents
  from: string; // YYYY-MM-DD
  to: string; // YYYY-MM-DD, included
  timeZone: string; // IANA name
}

export interface AgentChoice {
  agent: string;
  displayName: string;
}

const timeZoneList = "report-time-zones";

// Each control's label names it alone: a label wrapped around a select would carry the
// options' text into the name that tests and assistive tools look for.
function Control(props: { id: string; label: string; children: React.ReactNode }) {
  return (
    <div className="control">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
    </div>
  );
}

export function ReportControls(props: {
  query: ReportQuery;
  onChange: (change: Partial<ReportQuery>) => void;
  units: string[];
  agents: AgentChoice[];
  agentFilter: boolean;
  timeZones: string[];
}) {
  const { query, onChange, units, agents, agentFilter, timeZones } = props;
  return (
    <div className="toolbar report-controls">
      <Control id="report-unit" label="Unit">
        <select id="report-unit" value={query.unit} onChange={(e) => onChange({ unit: e.target.value, agent: "" })}>
          <option value="">All my units</option>
          {units.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </Control>
      {agentFilter && (
        <Control id="report-agent" label="Agent">
          <select id="report-agent" value={query.agent} onChange={(e) => onChange({ agent: e.target.value })}>
            <option value="">All agents</option>
            {agents.map((a) => (
              <option key={a.agent} value={a.agent}>
                {a.displayName || a.agent}
              </option>
            ))}
          </select>
        </Control>
      )}
      <Control id="report-from" label="From">
        <input id="report-from" type="date" value={query.from} onChange={(e) => onChange({ from: e.target.value })} />
      </Control>
      <Control id="report-to" label="To">
        <input id="report-to" type="date" value={query.to} onChange={(e) => onChange({ to: e.target.value })} />
      </Control>
      <Control id="report-time-zone" label="Time zone">
        <input
          id="report-time-zone"
          type="text"
          list={timeZoneList}
          value={query.timeZone}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => onChange({ timeZone: e.target.value })}
        />
        <datalist id={timeZoneList}>
          {timeZones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </Control>
    </div>
  );
}
