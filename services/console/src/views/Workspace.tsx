// Workspace is the agent's desk: the status switch, the conversations routed to the agent,
// and the open one with its transcript and reply box. The agent's stream stays open while
// the workspace is shown (unless the agent chooses Offline): it is what keeps the agent
// online for routing.
import { useRef, useState } from "react";
import { AgentStatus, ConversationState } from "../gen/switchboard/chat/v1/chat_pb";
import { useSession } from "../session";
import { errorText } from "../transport";
import { ConversationList } from "./workspace/ConversationList";
import { ConversationPane, type PaneActions } from "./workspace/ConversationPane";
import { statusChoices, type Desk } from "./workspace/desk";
import { useAgentDesk, type Connection } from "./workspace/useAgentDesk";
import "./workspace.css";

export function Workspace(_props: { route: string }) {
  const { clients, account } = useSession();
  const chat = clients.chat;
  const [online, setOnline] = useState(true);
  const { desk, act, connection, error } = useAgentDesk(chat, online);
  // texts keeps each conversation's unsent reply while another is open.
  const texts = useRef<Record<string, string>>({});
  const [chosen, setChosen] = useState<AgentStatus | null>(null);
  const [statusError, setStatusError] = useState("");

  const choose = async (status: AgentStatus) => {
    setStatusError("");
    if (status === AgentStatus.OFFLINE) {
      setChosen(status);
      setOnline(false);
      return;
    }
    try {
      const r = await chat.setStatus({ status });
      setChosen(r.chosen);
      setOnline(true);
    } catch (err) {
      setStatusError(errorText(err));
    }
  };

  const open = desk.chats[desk.open];
  const actions = (id: string): PaneActions => ({
    accept: async () => {
      const r = await chat.acceptConversation({ conversationId: id });
      if (r.conversation) act({ type: "conversation", conversation: r.conversation });
    },
    send: async (text, clientMessageId) => {
      // Replying takes up a conversation not accepted yet.
      if (desk.chats[id]?.conversation.state === ConversationState.ASSIGNED) {
        const r = await chat.acceptConversation({ conversationId: id });
        if (r.conversation) act({ type: "conversation", conversation: r.conversation });
      }
      await chat.sendMessage({ conversationId: id, clientMessageId, text });
    },
    draft: async (text) => {
      await chat.updateDraft({ conversationId: id, text });
    },
    transfer: async (target, note) => {
      await chat.transferConversation({ conversationId: id, target, note });
    },
    close: async () => {
      await chat.closeConversation({ conversationId: id });
      act({ type: "dismiss", id });
    },
    dismiss: () => act({ type: "dismiss", id }),
    back: () => act({ type: "open", id: "" }),
  });

  return (
    <div className={`workspace${open ? " has-open" : ""}`}>
      <div className="ws-bar">
        <StatusSwitch desk={desk} chosen={chosen} online={online} onChoose={choose} />
        <ConnectionNote connection={connection} error={error} />
        {statusError && (
          <p className="error" role="alert">
            {statusError}
          </p>
        )}
      </div>
      <div className="ws-panes">
        <ConversationList desk={desk} onOpen={(id) => act({ type: "open", id })} />
        {open ? (
          <ConversationPane
            key={open.conversation.id}
            chat={open}
            agentId={account.agent}
            units={unitsOf(desk)}
            actions={actions(open.conversation.id)}
            text={texts.current[open.conversation.id] ?? ""}
            onTextChange={(t) => (texts.current[open.conversation.id] = t)}
            listTargets={(conversationId) => chat.listTransferTargets({ conversationId })}
          />
        ) : (
          <p className="empty ws-none">Choose a conversation on the left to answer it.</p>
        )}
      </div>
    </div>
  );
}

// StatusSwitch shows the chosen status; the server's effective one shows beside it when
// it differs (offline while the stream is down).
export function StatusSwitch(props: { desk: Desk; chosen: AgentStatus | null; online: boolean; onChoose: (s: AgentStatus) => void }) {
  const effective = props.desk.status;
  const value = !props.online ? AgentStatus.OFFLINE : (props.chosen ?? (effective === AgentStatus.OFFLINE ? AgentStatus.AVAILABLE : effective));
  const level = effective === AgentStatus.AVAILABLE ? "ok" : effective === AgentStatus.OFFLINE ? "critical" : "warning";
  return (
    <div className="ws-status">
      <label htmlFor="ws-status">Status</label>
      <select id="ws-status" value={value} onChange={(e) => props.onChoose(Number(e.target.value) as AgentStatus)}>
        {statusChoices.map((c) => (
          <option key={c.status} value={c.status}>
            {c.label}
          </option>
        ))}
      </select>
      <span className="ws-effective muted">
        routing sees you as <span className={`badge ${level}`}>{statusChoices.find((c) => c.status === effective)?.label ?? "Offline"}</span>
      </span>
    </div>
  );
}

export function ConnectionNote(props: { connection: Connection; error: string }) {
  switch (props.connection) {
    case "reconnecting":
      return (
        <p className="ws-connection level-critical" role="status">
          Offline — reconnecting{props.error ? ` (${props.error})` : ""}
        </p>
      );
    case "refused":
      return (
        <p className="ws-connection error" role="alert">
          Offline: {props.error}
        </p>
      );
    case "connecting":
      return (
        <p className="ws-connection muted" role="status">
          Connecting…
        </p>
      );
    case "off":
      return (
        <p className="ws-connection muted" role="status">
          You are offline: no conversations are routed to you.
        </p>
      );
    default:
      return null;
  }
}

// unitsOf lists the business units the agent's conversations are in: the transfer targets
// the agent knows of.
function unitsOf(desk: Desk): string[] {
  return [...new Set(Object.values(desk.chats).map((c) => c.conversation.businessUnit))].sort();
}
