// Supervised: the user's supervised chats side by side, all live from one
// WatchConversations stream (drafts and whispers included), with whisper, transfer, finish
// and stop supervising.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { errorText } from "../api";
import { ConversationState, type Conversation } from "../gen/switchboard/chat/v1/chat_pb";
import type { AgentLoad } from "../gen/switchboard/supervision/v1/supervision_pb";
import { useSession } from "../session";
import { useTranscripts, type FollowedTranscript } from "../ui/useTranscript";
import { SupervisedChatCard } from "./chats/SupervisedChatCard";
import { useAgents } from "./chats/useAgents";
import "./chats.css";

export function Supervised(_props: { route: string }) {
  const { clients, grants, navigate } = useSession();
  const [chats, setChats] = useState<Conversation[] | null>(null);
  const [error, setError] = useState("");
  const { agents, reload: reloadAgents } = useAgents();
  const units = useMemo(() => grants.map((g) => g.businessUnit), [grants]);

  const reload = useCallback(() => {
    clients.supervision
      .listSupervisedChats({})
      .then((r) => {
        setChats(r.conversations);
        setError("");
      })
      .catch((err) => setError(errorText(err)));
  }, [clients]);
  useEffect(reload, [reload]);

  // A chat's replay brings many system events at once: read the list once after them.
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const reloadSoon = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(reload, 300);
  }, [reload]);
  useEffect(() => () => clearTimeout(timer.current), []);

  // Chats still open come first; the list keeps the server's order (latest added first) within each.
  const shown = useMemo(() => (chats ? [...chats].sort((a, b) => Number(isClosed(a)) - Number(isClosed(b))) : null), [chats]);
  const ended = shown?.filter(isClosed) ?? [];
  const ids = useMemo(() => chats?.map((c) => c.id) ?? [], [chats]);
  const transcripts = useTranscripts(ids, (conversations, signal) => clients.supervision.watchConversations({ conversations }, { signal }));

  async function removeEnded() {
    setError("");
    try {
      await Promise.all(ended.map((c) => clients.supervision.removeSupervisedChat({ conversationId: c.id })));
    } catch (err) {
      setError(errorText(err));
    }
    reload();
  }

  return (
    <section aria-labelledby="supervised-title">
      <div className="toolbar view-head">
        <h1 id="supervised-title" className="view-title">
          My supervised chats
        </h1>
        {ended.length > 0 && (
          <button type="button" onClick={() => void removeEnded()}>
            Stop supervising the {ended.length} ended chat{ended.length === 1 ? "" : "s"}
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {chats === null && !error && <p className="muted">Loading your supervised chats…</p>}
      {chats?.length === 0 && (
        <p className="empty">
          You supervise no chat yet. Pick one in{" "}
          <a
            href="#open"
            onClick={(e) => {
              e.preventDefault();
              navigate("/open");
            }}
          >
            Open chats
          </a>
          .
        </p>
      )}
      {shown && shown.length > 0 && (
        <div className="supervised-grid">
          {shown.map((c) => (
            <SupervisedChat
              key={c.id}
              conversation={c}
              transcript={transcripts[c.id]}
              agents={agents}
              units={units}
              onChanged={reloadSoon}
              onAgentsStale={reloadAgents}
              onStopped={() => setChats((list) => list?.filter((x) => x.id !== c.id) ?? null)}
            />
          ))}
        </div>
      )}
    </section>
  );
}

const isClosed = (c: Conversation) => c.state === ConversationState.CLOSED;

// SupervisedChat shows one followed conversation and carries out the card's actions.
function SupervisedChat(props: {
  conversation: Conversation;
  transcript: FollowedTranscript;
  agents: AgentLoad[];
  units: string[];
  onChanged: () => void;
  onAgentsStale: () => void;
  onStopped: () => void;
}) {
  const { conversation: c, transcript, agents, units, onChanged, onAgentsStale, onStopped } = props;
  const { clients } = useSession();

  // A system event (assignment, transfer, close) changes who and what the header shows.
  const systemEvents = transcript.state.entries.filter((e) => e.kind === "system").length;
  useEffect(() => {
    if (systemEvents > 0) onChanged();
  }, [systemEvents, onChanged]);

  return (
    <SupervisedChatCard
      conversation={c}
      transcript={transcript}
      agents={agents}
      units={units}
      actions={{
        whisper: async (id, text) => {
          await clients.supervision.whisper({ conversationId: c.id, clientMessageId: id, text });
        },
        transfer: async (target, note) => {
          await clients.supervision.transferConversation({
            conversationId: c.id,
            target: "agent" in target ? { case: "agent", value: target.agent } : { case: "businessUnit", value: target.businessUnit },
            note,
          });
          onChanged();
        },
        finish: async (reason) => {
          await clients.supervision.finishConversation({ conversationId: c.id, reason });
          onChanged();
        },
        stop: async () => {
          await clients.supervision.removeSupervisedChat({ conversationId: c.id });
          onStopped();
        },
        openTransfer: onAgentsStale,
      }}
    />
  );
}
