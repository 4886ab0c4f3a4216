// useTranscript follows one conversation's event stream into a transcript, and resumes it
// after the last stored event when it drops (backing off 1 s, 2 s, … 10 s).
import { useEffect, useReducer, useRef, useState } from "react";
import type { Event } from "../gen/switchboard/chat/v1/chat_pb";
import { errorText, isAbort } from "../transport";
import { applyEvent, emptyTranscript, type TranscriptState } from "./transcript";

// OpenStream opens the stream at afterSeq: ChatService.Subscribe or
// SupervisionService.WatchConversation.
export type OpenStream = (afterSeq: bigint, signal: AbortSignal) => AsyncIterable<{ event?: Event }>;

export type StreamStatus = "connecting" | "live" | "reconnecting" | "ended";

type Action = { type: "event"; event: Event } | { type: "reset" };

function reduce(state: TranscriptState, a: Action): TranscriptState {
  return a.type === "reset" ? emptyTranscript : applyEvent(state, a.event);
}

// useTranscript follows the stream open opens, anew whenever key changes; null follows none.
export function useTranscript(open: OpenStream | null, key: string): { state: TranscriptState; status: StreamStatus; error: string } {
  const [state, dispatch] = useReducer(reduce, emptyTranscript);
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [error, setError] = useState("");
  const latest = useRef(state);
  const opener = useRef(open);
  opener.current = open;

  useEffect(() => {
    dispatch({ type: "reset" });
    latest.current = emptyTranscript;
    if (!opener.current) return;
    const abort = new AbortController();
    (async () => {
      let failures = 0;
      setStatus("connecting");
      while (!abort.signal.aborted) {
        try {
          const stream = opener.current!(latest.current.lastSeq, abort.signal);
          setStatus("live");
          setError("");
          for await (const r of stream) {
            failures = 0;
            if (r.event) {
              dispatch({ type: "event", event: r.event });
              latest.current = applyEvent(latest.current, r.event);
            }
          }
          if (latest.current.closed) {
            setStatus("ended");
            return;
          }
        } catch (err) {
          if (abort.signal.aborted || isAbort(err)) return;
          setError(errorText(err));
          failures++;
        }
        setStatus("reconnecting");
        await sleep(Math.min(1000 * 2 ** Math.max(failures - 1, 0), 10000), abort.signal);
      }
    })();
    return () => abort.abort();
  }, [key]);

  return { state, status, error };
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
