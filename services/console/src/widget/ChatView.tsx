// ChatView is the visitor's chat: the transcript (the agent's typing shows, never a draft
// or a whisper: the visitor's stream carries neither), the message box, "End chat", and the
// rating once the conversation ended.
import { useState } from "react";
import { errorText } from "../transport";
import { Composer } from "../ui/Composer";
import { Transcript } from "../ui/Transcript";
import type { StreamStatus } from "../ui/useTranscript";
import type { TranscriptState } from "../ui/transcript";
import { RatingForm, type Rating } from "./forms";

export function ChatView(props: {
  state: TranscriptState;
  status: StreamStatus;
  error: string;
  send: (text: string, clientMessageId: string) => Promise<void>;
  draft: (text: string) => Promise<void>;
  onEnd: () => Promise<void>;
  onRate: (r: Rating) => Promise<void>;
  onNewChat: () => void;
}) {
  const ended = props.state.closed;
  return (
    <div className={`wg-chat${ended ? " ended" : ""}`}>
      {props.status === "reconnecting" && (
        <p className="wg-note" role="status">
          Reconnecting…{props.error ? ` (${props.error})` : ""}
        </p>
      )}
      <Transcript state={props.state} viewer="visitor" />
      {ended ? (
        <div className="wg-after">
          <RatingForm onRate={props.onRate} />
          <button type="button" onClick={props.onNewChat}>
            Start a new chat
          </button>
        </div>
      ) : (
        <>
          <Composer label="Message" placeholder="Type your message…" send={props.send} draft={props.draft} />
          <EndChat onEnd={props.onEnd} />
        </>
      )}
    </div>
  );
}

function EndChat(props: { onEnd: () => Promise<void> }) {
  const [error, setError] = useState("");
  return (
    <>
      <button
        type="button"
        className="wg-end"
        onClick={() => {
          setError("");
          props.onEnd().catch((err) => setError(errorText(err)));
        }}
      >
        End chat
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
