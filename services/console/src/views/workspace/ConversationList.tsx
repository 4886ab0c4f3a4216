// ConversationList is the agent's held conversations, most recently active first: one
// button per conversation named by the visitor, with unread count and new-assignment mark.
import { ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import { chatsByActivity, visitorName, type Desk } from "./desk";

export function ConversationList(props: { desk: Desk; onOpen: (id: string) => void }) {
  const chats = chatsByActivity(props.desk);
  return (
    <nav className="ws-list" aria-label="My conversations">
      <h2>My conversations</h2>
      {chats.length === 0 && <p className="empty">No conversations yet. Visitors are routed to you while your status is Available.</p>}
      <ul>
        {chats.map((chat) => {
          const c = chat.conversation;
          const last = [...chat.transcript.entries].reverse().find((e) => e.kind !== "system");
          const describedBy = `ws-item-${c.id}`;
          const waiting = c.state === ConversationState.ASSIGNED && !chat.ended;
          return (
            <li key={c.id}>
              <button
                type="button"
                className={`ws-item${chat.fresh ? " fresh" : ""}${props.desk.open === c.id ? " current" : ""}${chat.ended ? " ended" : ""}`}
                aria-label={visitorName(c)}
                aria-describedby={describedBy}
                aria-current={props.desk.open === c.id ? "true" : undefined}
                onClick={() => props.onOpen(c.id)}
              >
                <span className="ws-item-head">
                  <span className="ws-item-name">{visitorName(c)}</span>
                  {chat.unread > 0 && <span className="badge unread">{chat.unread}</span>}
                </span>
                <span id={describedBy} className="ws-item-info">
                  {chat.fresh && <span className="badge warning">New</span>}
                  {waiting && <span className="badge">To accept</span>}
                  {chat.ended && <span className="badge">Ended</span>}
                  {chat.unread > 0 && <span className="sr-only">{chat.unread} unread</span>}
                  <span className="muted">{c.businessUnit}</span>
                  {last && <span className="ws-item-last">{last.kind === "whisper" ? `Whisper: ${last.text}` : last.text}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
