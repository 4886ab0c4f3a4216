// ChatFilters is the all-chats filter panel; it searches on submit.
import { useState } from "react";
import type { AgentLoad } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { filterProblem, noFilter, type FilterValues } from "./chatFilter";

export function ChatFilters(props: { initial: FilterValues; units: string[]; agents: AgentLoad[]; onSearch: (f: FilterValues) => void }) {
  const { initial, units, agents, onSearch } = props;
  const [f, setF] = useState(initial);
  const problem = filterProblem(f);
  const set = <K extends keyof FilterValues>(k: K) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setF({ ...f, [k]: e.target.value });
  const agentChoices = f.unit ? agents.filter((a) => a.businessUnits.includes(f.unit)) : agents;
  const ratings = ["1", "2", "3", "4", "5"];

  return (
    <form
      className="chat-filters card"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        if (!problem) onSearch(f);
      }}
    >
      <label className="wide">
        Search text
        <input type="search" value={f.text} maxLength={500} placeholder="Words in the messages" onChange={set("text")} />
      </label>
      <label>
        Business unit
        <select value={f.unit} onChange={(e) => setF({ ...f, unit: e.target.value, agent: "" })}>
          <option value="">All units</option>
          {units.map((u) => (
            <option key={u}>{u}</option>
          ))}
        </select>
      </label>
      <label>
        Agent
        <select value={f.agent} onChange={set("agent")}>
          <option value="">All agents</option>
          {agentChoices.map((a) => (
            <option key={a.agent} value={a.agent}>
              {a.displayName || a.agent}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input type="date" value={f.from} onChange={set("from")} />
      </label>
      <label>
        To
        <input type="date" value={f.to} onChange={set("to")} />
      </label>
      <label>
        CSAT at least
        <select value={f.csatMin} onChange={set("csatMin")}>
          <option value="">Any</option>
          {ratings.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        CSAT at most
        <select value={f.csatMax} onChange={set("csatMax")}>
          <option value="">Any</option>
          {ratings.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        Thumb
        <select value={f.thumb} onChange={set("thumb")}>
          <option value="">Any</option>
          <option value="up">Thumb up</option>
          <option value="down">Thumb down</option>
        </select>
      </label>
      <label>
        Sentiment
        <select value={f.sentiment} onChange={set("sentiment")}>
          <option value="">Any</option>
          <option value="positive">Positive</option>
          <option value="neutral">Neutral</option>
          <option value="negative">Negative</option>
        </select>
      </label>
      <label>
        State
        <select value={f.state} onChange={set("state")}>
          <option value="">Open and closed</option>
          <option value="open">Open</option>
          <option value="closed">Closed</option>
        </select>
      </label>
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={!!problem}>
          Search
        </button>
        <button
          type="button"
          onClick={() => {
            setF(noFilter);
            onSearch(noFilter);
          }}
        >
          Reset
        </button>
      </div>
      {problem && (
        <p role="alert" className="error wide">
          {problem}
        </p>
      )}
    </form>
  );
}
