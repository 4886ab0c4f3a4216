// useAgents lists the agents of the units the user supervises (for filters and transfer
// targets), with their load; reload reads them again.
import { useCallback, useEffect, useState } from "react";
import { errorText } from "../../api";
import type { AgentLoad } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { useSession } from "../../session";

export function useAgents(): { agents: AgentLoad[]; error: string; reload: () => void } {
  const { clients } = useSession();
  const [agents, setAgents] = useState<AgentLoad[]>([]);
  const [error, setError] = useState("");
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    clients.supervision
      .listAgents({})
      .then((r) => {
        if (!live) return;
        setAgents(r.agents);
        setError("");
      })
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [clients, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { agents, error, reload };
}
