// useTranscript follows one conversation's event stream into a transcript, and
// useTranscripts several on one stream; both resume after the last stored event of each
// conversation when the stream drops (see keepStreaming for the delays).
import { useEffect, useReducer, useRef, useState } from "react";
import type { Event } from "../gen/switchboard/chat/v1/chat_pb";
import type { WatchConversationsResponse } from "../gen/switchboard/supervision/v1/supervision_pb";
import { errorText } from "../transport";
import { keepStreaming } from "./retry";
import { applyEvent, emptyTranscript, type TranscriptState } from "./transcript";

// OpenStream opens the stream at afterSeq: ChatService.Subscribe or
// SupervisionService.WatchConversation.
export type OpenStream = (afterSeq: bigint, signal: AbortSignal) => AsyncIterable<{ event?: Event }>;

export type StreamStatus = "connecting" | "live" | "reconnecting" | "ended";

export interface FollowedTranscript {
  state: TranscriptState;
  status: StreamStatus;
  error: string;
}

type Action = { type: "event"; event: Event } | { type: "reset" };

function reduce(state: TranscriptState, a: Action): TranscriptState {
  return a.type === "reset" ? emptyTranscript : applyEvent(state, a.event);
}

// useTranscript follows the stream open opens, anew whenever key changes; null follows none.
// The stream is let go once the conversation has ended.
export function useTranscript(open: OpenStream | null, key: string): FollowedTranscript {
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
    setStatus("connecting");
    void keepStreaming(
      abort.signal,
      async (alive) => {
        const stream = opener.current!(latest.current.lastSeq, abort.signal);
        setStatus("live");
        setError("");
        for await (const r of stream) {
          alive();
          if (!r.event) continue;
          dispatch({ type: "event", event: r.event });
          latest.current = applyEvent(latest.current, r.event);
          if (latest.current.closed) break;
        }
        if (!latest.current.closed) return;
        setStatus("ended");
        abort.abort(); // lets the stream's connection go
        return "done";
      },
      (err, retrying) => {
        setError(errorText(err));
        setStatus(retrying ? "reconnecting" : "ended");
      },
    );
    return () => abort.abort();
  }, [key]);

  return { state, status, error };
}

// OpenMany opens one stream of several conversations, each after its cursor:
// SupervisionService.WatchConversations.
export type OpenMany = (cursors: { conversationId: string; afterSeq: bigint }[], signal: AbortSignal) => AsyncIterable<WatchConversationsResponse>;

// useTranscripts follows the conversations ids names on one stream (a browser holds six
// connections per server over HTTP/1.1, so one stream per chat would run out of them),
// opened anew with every conversation's cursor when the set changes. Ended conversations
// stay in the result but leave the stream once it is opened again.
export function useTranscripts(ids: string[], open: OpenMany): Record<string, FollowedTranscript> {
  const [transcripts, setTranscripts] = useState<Record<string, TranscriptState>>({});
  const [refused, setRefused] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [error, setError] = useState("");
  const latest = useRef<Record<string, TranscriptState>>({});
  const opener = useRef(open);
  opener.current = open;
  const key = [...ids].sort().join(",");

  useEffect(() => {
    const wanted = key ? key.split(",") : [];
    const following = wanted.filter((id) => !latest.current[id]?.closed);
    if (following.length === 0) {
      setStatus(wanted.length ? "ended" : "connecting");
      return;
    }
    const abort = new AbortController();
    // Events are applied as they come and shown at most once a frame.
    let frame = 0;
    const show = () => {
      frame = 0;
      setTranscripts({ ...latest.current });
    };
    void keepStreaming(
      abort.signal,
      async (alive) => {
        const cursors = following.map((id) => ({ conversationId: id, afterSeq: latest.current[id]?.lastSeq ?? 0n }));
        const stream = opener.current(cursors, abort.signal);
        setStatus("live");
        setError("");
        for await (const r of stream) {
          alive();
          if (r.update.case === "refused") {
            const { conversationId, reason } = r.update.value;
            setRefused((m) => ({ ...m, [conversationId]: reason }));
          } else if (r.update.case === "event") {
            const e = r.update.value;
            latest.current[e.conversationId] = applyEvent(latest.current[e.conversationId] ?? emptyTranscript, e);
            frame ||= requestAnimationFrame(show);
          }
        }
      },
      (err, retrying) => {
        setError(errorText(err));
        setStatus(retrying ? "reconnecting" : "ended");
      },
    );
    return () => {
      abort.abort();
      cancelAnimationFrame(frame);
    };
  }, [key]);

  const out: Record<string, FollowedTranscript> = {};
  for (const id of ids) {
    const state = transcripts[id] ?? emptyTranscript;
    if (refused[id]) out[id] = { state, status: "ended", error: refused[id] };
    else out[id] = { state, status: state.closed ? "ended" : status, error };
  }
  return out;
}
