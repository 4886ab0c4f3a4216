// OpenChats: every open chat of the units where the user holds SuperviseOpenChats, live
// from WatchOpenChats, filtered by unit and agent; "Supervise" adds one to the user's
// supervised chats and goes there.
import { useCallback, useMemo, useState } from "react";
import { errorText } from "../api";
import type { OpenChat } from "../gen/switchboard/supervision/v1/supervision_pb";
import { unitsWith, useSession } from "../session";
import { OpenChatsView, type OpenChatsFilter } from "./chats/OpenChatsView";
import { applyOpenChat, byLastActivity, noOpenChats, restart } from "./chats/openChats";
import { useAgents } from "./chats/useAgents";
import { useNow } from "./chats/useNow";
import { useStream } from "./chats/useStream";
import "./chats.css";

export function OpenChats(_props: { route: string }) {
  const { clients, grants, navigate } = useSession();
  const units = useMemo(() => unitsWith(grants, "SuperviseOpenChats"), [grants]);
  const supervisable = useMemo(() => new Set(unitsWith(grants, "Supervise")), [grants]);
  const { agents } = useAgents();
  const [filter, setFilter] = useState<OpenChatsFilter>({ unit: "", agent: "" });
  const [state, setState] = useState(noOpenChats);
  const [supervising, setSupervising] = useState<string>();
  const [actionError, setActionError] = useState("");
  const now = useNow(1000);

  const stream = useStream(
    (signal) => clients.supervision.watchOpenChats({ businessUnit: filter.unit, agent: filter.agent }, { signal }),
    `${filter.unit}\n${filter.agent}`,
    (r) => setState((s) => applyOpenChat(s, r)),
    () => setState((s) => restart(s)),
  );

  const inUnits = useMemo(() => agents.filter((a) => a.businessUnits.some((u) => units.includes(u))), [agents, units]);
  const chats = useMemo(() => byLastActivity(state.chats), [state.chats]);
  const canSupervise = useCallback((u: string) => supervisable.has(u), [supervisable]);

  const supervise = useCallback(
    async (chat: OpenChat) => {
      const id = chat.conversation!.id;
      setSupervising(id);
      setActionError("");
      try {
        await clients.supervision.addSupervisedChat({ conversationId: id });
        navigate("/supervised");
      } catch (err) {
        setActionError(errorText(err));
        setSupervising(undefined);
      }
    },
    [clients, navigate],
  );

  return (
    <section aria-labelledby="open-chats-title">
      <h1 id="open-chats-title" className="view-title">
        Open chats
      </h1>
      <OpenChatsView
        chats={chats}
        ready={state.ready}
        units={units}
        agents={inUnits}
        filter={filter}
        onFilter={(f) => {
          setFilter(f);
          setState(noOpenChats);
        }}
        canSupervise={canSupervise}
        onSupervise={supervise}
        supervising={supervising}
        reconnecting={stream.reconnecting}
        error={actionError || stream.error}
        now={now}
      />
    </section>
  );
}
