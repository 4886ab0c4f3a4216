// Agents: every agent of the supervisor's units, live (ListAgents, then WatchAgents), with
// status, load against capacity and signals; choosing one shows its open conversations
// (route /agents/<agent>). The unit filter is kept in the address.
import { useEffect, useMemo, useState } from "react";
import { errorText, isAbort } from "../api";
import type { AgentLoad } from "../gen/switchboard/supervision/v1/supervision_pb";
import { useSession } from "../session";
import { keepStreaming } from "../ui/retry";
import { useNow } from "./board/useNow";
import { AgentChats } from "./agents/AgentChats";
import { AgentList, nameOf } from "./agents/AgentList";
import "./board.css";
import "./agents.css";

interface AgentsState {
  agents: AgentLoad[];
  loaded: boolean;
  error: string;
  reconnecting: string;
}

const emptyAgents: AgentsState = { agents: [], loaded: false, error: "", reconnecting: "" };

// withAgent puts an agent as it is now in the list, in place of what it was.
export function withAgent(agents: AgentLoad[], agent: AgentLoad): AgentLoad[] {
  const i = agents.findIndex((a) => a.agent === agent.agent);
  return i < 0 ? [...agents, agent] : agents.map((a, j) => (j === i ? agent : a));
}

// selectedAgent reads the agent from the route "/agents/<agent>".
export function selectedAgent(route: string): string {
  const part = route.split("/")[2] ?? "";
  try {
    return decodeURIComponent(part);
  } catch {
    return "";
  }
}

function unitQuery(unit: string): string {
  return unit ? `?unit=${encodeURIComponent(unit)}` : "";
}

export function Agents(props: { route: string }) {
  const { clients, grants, navigate } = useSession();
  const units = useMemo(() => grants.filter((g) => g.permissions.length > 0).map((g) => g.businessUnit), [grants]);
  const [unit, setUnit] = useState(() => {
    const u = new URLSearchParams(window.location.search).get("unit") ?? "";
    return units.includes(u) ? u : "";
  });
  const [find, setFind] = useState("");
  const [state, setState] = useState<AgentsState>(emptyAgents);
  const now = useNow(1000);
  const selected = selectedAgent(props.route);

  useEffect(() => {
    window.history.replaceState(window.history.state, "", window.location.pathname + unitQuery(unit));
  }, [unit]);

  useEffect(() => {
    const abort = new AbortController();
    const req = { businessUnit: unit };
    setState(emptyAgents);
    const load = async () => {
      try {
        const r = await clients.supervision.listAgents(req, { signal: abort.signal });
        setState((s) => ({ ...s, agents: r.agents, loaded: true, error: "" }));
      } catch (err) {
        if (!abort.signal.aborted && !isAbort(err)) setState((s) => ({ ...s, loaded: true, error: errorText(err) }));
      }
    };
    void load().then(() =>
      keepStreaming(
        abort.signal,
        async (alive) => {
          for await (const r of clients.supervision.watchAgents(req, { signal: abort.signal })) {
            alive();
            const agent = r.agent;
            if (agent) setState((s) => ({ ...s, agents: withAgent(s.agents, agent), loaded: true, reconnecting: "" }));
          }
        },
        (err, retrying) => setState((s) => (retrying ? { ...s, reconnecting: errorText(err) } : { ...s, reconnecting: "", error: errorText(err) })),
      ),
    );
    return () => abort.abort();
  }, [clients, unit]);

  const shown = state.agents.filter((a) => !find || nameOf(a).toLowerCase().includes(find.toLowerCase()) || a.agent.includes(find.toLowerCase()));
  const chosen = state.agents.find((a) => a.agent === selected);
  const select = (agent: string) => navigate(`/agents/${encodeURIComponent(agent)}${unitQuery(unit)}`);

  return (
    <div className={`agents ${selected ? "with-chats" : ""}`}>
      <div className="toolbar">
        <label>
          Business unit
          <select value={unit} onChange={(e) => setUnit(e.target.value)}>
            <option value="">All units</option>
            {units.map((u) => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
        </label>
        <label>
          Find an agent
          <input type="search" value={find} onChange={(e) => setFind(e.target.value)} />
        </label>
        {state.reconnecting && (
          <p role="status" className="reconnecting">
            Live updates lost ({state.reconnecting}); reconnecting…
          </p>
        )}
      </div>
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      <div className="agents-layout">
        <div className="agents-main">
          {!state.loaded && <p className="muted">Loading agents…</p>}
          {state.loaded && !state.error && shown.length === 0 && <p className="empty">{find ? "No agent matches." : "No agent in these units."}</p>}
          <AgentList agents={shown} selected={selected} onSelect={select} now={now} />
        </div>
        {selected && <AgentChats agent={selected} name={chosen ? nameOf(chosen) : selected} onClose={() => navigate(`/agents${unitQuery(unit)}`)} />}
      </div>
    </div>
  );
}
