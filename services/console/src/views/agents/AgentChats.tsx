// One agent's open conversations, live: WatchOpenChats filtered by the agent gives the
// whole list, then each change; the list is taken anew on every reconnection.
import { useEffect, useRef, useState } from "react";
import { errorText } from "../../api";
import type { OpenChat } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { unitsWith, useSession } from "../../session";
import { keepStreaming } from "../../ui/retry";
import { useNow } from "../board/useNow";
import { ChatBoxes, type ChatSeen } from "./ChatBoxes";

interface ChatsState {
  chats: ChatSeen[];
  loaded: boolean;
  reconnecting: string;
  // error is why the conversations cannot be shown (a refusal).
  error: string;
}

const emptyChats: ChatsState = { chats: [], loaded: false, reconnecting: "", error: "" };

// withChat applies one change to the list: a chat added or updated in place, or removed.
export function withChat(chats: ChatSeen[], chat: OpenChat, removed: boolean, now: number): ChatSeen[] {
  const id = chat.conversation?.id;
  const others = chats.filter((c) => c.chat.conversation?.id !== id);
  if (removed) return others;
  const i = chats.findIndex((c) => c.chat.conversation?.id === id);
  if (i < 0) return [...chats, { chat, receivedAt: now }];
  return chats.map((c, j) => (j === i ? { chat, receivedAt: now } : c));
}

export function AgentChats(props: { agent: string; name: string; onClose: () => void }) {
  const { clients, grants, navigate } = useSession();
  const [state, setState] = useState<ChatsState>(emptyChats);
  const now = useNow(1000);
  const heading = useRef<HTMLHeadingElement>(null);
  const supervisable = unitsWith(grants, "Supervise");

  // Keyboard and screen-reader users land on the conversations they asked for.
  useEffect(() => heading.current?.focus(), [props.agent]);

  useEffect(() => {
    const abort = new AbortController();
    setState(emptyChats);
    void keepStreaming(
      abort.signal,
      async (alive) => {
        // The list before snapshot_done replaces the one shown, which may hold chats that
        // closed while the stream was down.
        let snapshot: ChatSeen[] | null = [];
        for await (const r of clients.supervision.watchOpenChats({ agent: props.agent }, { signal: abort.signal })) {
          alive();
          if (r.snapshotDone) {
            const fresh = snapshot ?? [];
            snapshot = null;
            setState({ chats: fresh, loaded: true, reconnecting: "", error: "" });
          } else if (r.chat && snapshot) {
            snapshot = withChat(snapshot, r.chat, r.removed, Date.now());
          } else if (r.chat) {
            const { chat, removed } = r;
            setState((s) => ({ ...s, chats: withChat(s.chats, chat, removed, Date.now()) }));
          }
        }
      },
      (err, retrying) => setState((s) => ({ ...s, loaded: true, ...(retrying ? { reconnecting: errorText(err) } : { reconnecting: "", error: errorText(err) }) })),
    );
    return () => abort.abort();
  }, [clients, props.agent]);

  return (
    <section
      className="agent-chats"
      aria-label={`Open conversations of ${props.name}`}
      onKeyDown={(e) => {
        if (e.key === "Escape") props.onClose();
      }}
    >
      <header className="agent-chats-head">
        <h2 ref={heading} tabIndex={-1}>
          Open conversations of {props.name}
        </h2>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </header>
      {state.reconnecting && (
        <p role="status" className="reconnecting">
          Live updates lost ({state.reconnecting}); reconnecting…
        </p>
      )}
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
      {!state.loaded && <p className="muted">Loading conversations…</p>}
      {state.loaded && state.chats.length === 0 && !state.reconnecting && !state.error && <p className="empty">{props.name} has no open conversation.</p>}
      <ChatBoxes
        chats={state.chats}
        now={now}
        canSupervise={(unit) => supervisable.includes(unit)}
        onSupervise={async (id) => {
          await clients.supervision.addSupervisedChat({ conversationId: id });
          navigate("/supervised");
        }}
      />
    </section>
  );
}
