// useAgentDesk keeps the agent's stream open while online is true (the server routes
// conversations to an agent only while its stream is open), folds it into the desk, and
// reconnects after a drop (1 s, 2 s, … 10 s), resuming each conversation after its last event.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Client } from "@connectrpc/connect";
import type { ChatService } from "../../gen/switchboard/chat/v1/chat_pb";
import { errorText, isAbort } from "../../transport";
import { emptyDesk, reduceDesk, resumeCursors, type Desk, type DeskAction } from "./desk";

export type Connection = "connecting" | "live" | "reconnecting" | "off";

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
    (async () => {
      let failures = 0;
      setConnection("connecting");
      while (!abort.signal.aborted) {
        try {
          // The list first: conversations assigned while the stream was down get a cursor
          // at 0, so the stream replays their whole story.
          const listed = await chat.listMyConversations({}, { signal: abort.signal });
          act({ type: "listed", conversations: listed.conversations });
          const stream = chat.agentStream({ resume: resumeCursors(latest.current) }, { signal: abort.signal });
          for await (const update of stream) {
            setConnection("live"); // the same state again costs React nothing
            failures = 0;
            setError("");
            act({ type: "update", update });
          }
        } catch (err) {
          if (abort.signal.aborted || isAbort(err)) return;
          setError(errorText(err));
        }
        failures++;
        act({ type: "offline" });
        setConnection("reconnecting");
        await sleep(Math.min(1000 * 2 ** (failures - 1), 10000), abort.signal);
      }
    })();
    return () => abort.abort();
  }, [chat, online, act]);

  return { desk, act, connection, error };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
