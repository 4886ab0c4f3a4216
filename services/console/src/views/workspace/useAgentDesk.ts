// useAgentDesk keeps the agent's stream open while online is true (the server routes
// conversations to an agent only while its stream is open), folds it into the desk, and
// reconnects after a drop (1 s, 2 s, … 10 s), resuming each conversation after its last event.
// A refusal (not an agent, signed out) ends the retries.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Client } from "@connectrpc/connect";
import type { ChatService } from "../../gen/switchboard/chat/v1/chat_pb";
import { errorText } from "../../transport";
import { keepStreaming } from "../../ui/retry";
import { emptyDesk, reduceDesk, resumeCursors, type Desk, type DeskAction } from "./desk";

// Connection is the agent stream's state; refused is a refusal retrying cannot change.
export type Connection = "connecting" | "live" | "reconnecting" | "refused" | "off";

export function useAgentDesk(chat: Client<typeof ChatService>, online: boolean) {
  const [desk, setDesk] = useState<Desk>(emptyDesk);
  const latest = useRef(desk);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [error, setError] = useState("");

  const act = useCallback((a: DeskAction) => {
    latest.current = reduceDesk(latest.current, a);
    setDesk(latest.current);
  }, []);

  useEffect(() => {
    if (!online) {
      setConnection("off");
      act({ type: "offline" });
      return;
    }
    const abort = new AbortController();
    setConnection("connecting");
    void keepStreaming(
      abort.signal,
      async (alive) => {
        // The list first: conversations assigned while the stream was down get a cursor
        // at 0, so the stream replays their whole story.
        const listed = await chat.listMyConversations({}, { signal: abort.signal });
        act({ type: "listed", conversations: listed.conversations });
        for await (const update of chat.agentStream({ resume: resumeCursors(latest.current) }, { signal: abort.signal })) {
          alive();
          setConnection("live"); // the same state again costs React nothing
          setError("");
          act({ type: "update", update });
        }
      },
      (err, retrying) => {
        act({ type: "offline" });
        setError(errorText(err));
        setConnection(retrying ? "reconnecting" : "refused");
      },
    );
    return () => abort.abort();
  }, [chat, online, act]);

  return { desk, act, connection, error };
}
