// An agent's open conversations as boxes: who the visitor is, how long it has waited or
// lasted (ticking), when it last moved, the last message, and the objectives it misses.
import { useState } from "react";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { errorText } from "../../api";
import { ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import type { OpenChat } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { LastMessage } from "../../ui/LastMessage";
import { formatDuration } from "../board/format";
import { highest } from "../board/levels";
import { SignalBadge, signalText } from "../board/signals";

// ChatSeen is an open chat with when it was received, from which a queued chat's wait
// (waiting_seconds at that time) keeps counting.
export interface ChatSeen {
  chat: OpenChat;
  receivedAt: number;
}

export function visitorName(chat: OpenChat): string {
  const c = chat.conversation;
  return c?.visitorName || `Visitor ${c?.visitorId.slice(0, 8) ?? ""}`.trim();
}

function stateName(state: ConversationState): string {
  switch (state) {
    case ConversationState.QUEUED:
      return "Queued";
    case ConversationState.ASSIGNED:
      return "Not accepted yet";
    case ConversationState.ACTIVE:
      return "Active";
    default:
      return "Closed";
  }
}

const secondsSince = (now: number, t: Timestamp | undefined) => (t ? (now - timestampDate(t).getTime()) / 1000 : NaN);

export function ChatBoxes(props: {
  chats: ChatSeen[];
  now: number;
  // canSupervise tells whether the user may supervise chats of the unit.
  canSupervise: (unit: string) => boolean;
  onSupervise: (conversationId: string) => Promise<void>;
}) {
  return (
    <div className="chat-boxes">
      {props.chats.map(({ chat, receivedAt }) => (
        <ChatBox key={chat.conversation?.id} chat={chat} receivedAt={receivedAt} {...props} />
      ))}
    </div>
  );
}

function ChatBox(props: {
  chat: OpenChat;
  receivedAt: number;
  now: number;
  canSupervise: (unit: string) => boolean;
  onSupervise: (conversationId: string) => Promise<void>;
}) {
  const { chat, now } = props;
  const c = chat.conversation;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  if (!c) return null;
  const queued = c.state === ConversationState.QUEUED;
  const wait = queued ? Number(chat.waitingSeconds) + (now - props.receivedAt) / 1000 : secondsSince(now, c.createdAt);
  const level = chat.signals.length > 0 ? highest(chat.signals) : "ok";
  const name = visitorName(chat);
  return (
    <article className={`chat-box level-${level}`} aria-label={`Conversation with ${name}`}>
      <header className="chat-box-head">
        <h3>{name}</h3>
        <span className="badge">{stateName(c.state)}</span>
        {chat.inactive && <span className="badge warning">Inactive</span>}
      </header>
      <dl className="chat-facts">
        <div>
          <dt>{queued ? "Waiting for" : "Open for"}</dt>
          <dd className="ticking">{formatDuration(wait)}</dd>
        </div>
        <div>
          <dt>Last activity</dt>
          <dd>{formatDuration(secondsSince(now, c.lastActivityAt))} ago</dd>
        </div>
        <div>
          <dt>Unit</dt>
          <dd>{c.businessUnit}</dd>
        </div>
      </dl>
      <LastMessage message={chat.lastMessage} lines={2} />
      {chat.signals.length > 0 ? (
        <ul className="chat-signals" aria-label={`Signals of the conversation with ${name}`}>
          {chat.signals.map((s) => (
            <li key={s.id}>
              <SignalBadge signal={s} /> {signalText(s)}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted chat-ok">No objective missed</p>
      )}
      {props.canSupervise(c.businessUnit) && (
        <button
          type="button"
          className="primary"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError("");
            try {
              await props.onSupervise(c.id);
            } catch (err) {
              setError(errorText(err));
              setBusy(false);
            }
          }}
        >
          Supervise
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </article>
  );
}
