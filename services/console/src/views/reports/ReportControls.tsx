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
      <label>
        Unit
        <select value={query.unit} onChange={(e) => onChange({ unit: e.target.value, agent: "" })}>
          <option value="">All my units</option>
          {units.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </label>
      {agentFilter && (
        <label>
          Agent
          <select value={query.agent} onChange={(e) => onChange({ agent: e.target.value })}>
            <option value="">All agents</option>
            {agents.map((a) => (
              <option key={a.agent} value={a.agent}>
                {a.displayName || a.agent}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        From
        <input type="date" value={query.from} onChange={(e) => onChange({ from: e.target.value })} />
      </label>
      <label>
        To
        <input type="date" value={query.to} onChange={(e) => onChange({ to: e.target.value })} />
      </label>
      <label>
        Time zone
        <input
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
      </label>
    </div>
  );
}
