// ChatDetailView is one conversation of the all-chats history: what is known of it, its
// transcript, and what to do with it (download, mail to someone, supervise while open).
import { useState } from "react";
import { ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import type { AgentLoad, ChatSummary } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { errorText } from "../../api";
import { Transcript } from "../../ui/Transcript";
import type { TranscriptState } from "../../ui/transcript";
import { agentName, dateTime, sentimentLabel, stateLabel, thumbLabel, toDate } from "./format";

export function ChatDetailView(props: {
  visitor: string;
  summary?: ChatSummary;
  agents: AgentLoad[];
  transcript: TranscriptState | null;
  loading: boolean;
  error: string;
  onBack: () => void;
  backHref: string;
  onDownload?: () => void;
  onSend: (to: string) => Promise<void>;
  // onSupervise is there when the user may supervise this open conversation.
  onSupervise?: () => Promise<void>;
}) {
  const { visitor, summary, agents, transcript, loading, error, onBack, backHref, onDownload, onSend, onSupervise } = props;
  const c = summary?.conversation;
  return (
    <article className="chat-detail" aria-labelledby="chat-detail-title">
      <p>
        <a
          href={backHref}
          onClick={(e) => {
            e.preventDefault();
            onBack();
          }}
        >
          ← All chats
        </a>
      </p>
      <h1 id="chat-detail-title" className="view-title">
        Conversation with {visitor}
      </h1>
      {c && (
        <dl className="chat-facts">
          <Fact name="Business unit" value={c.businessUnit} />
          <Fact name="Agent" value={agentName(agents, c.agent) || "Nobody"} />
          <Fact name="State" value={stateLabel(c.state)} />
          <Fact name="Started" value={dateTime(toDate(c.createdAt))} />
          {c.closedAt && <Fact name="Ended" value={dateTime(toDate(c.closedAt))} />}
          <Fact name="CSAT" value={summary.csat > 0 ? `${summary.csat}/5` : "—"} />
          <Fact name="Thumb" value={thumbLabel(summary.thumb) || "—"} />
          <Fact name="Sentiment" value={sentimentLabel(summary.sentiment) || "—"} />
        </dl>
      )}
      <div className="toolbar">
        {onSupervise && c?.state !== ConversationState.CLOSED && <SuperviseButton visitor={visitor} onSupervise={onSupervise} />}
        {onDownload && (
          <button type="button" onClick={onDownload}>
            Download transcript
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {loading && <p className="muted">Loading the transcript…</p>}
      {transcript && (
        <div className="card detail-transcript">
          <Transcript state={transcript} viewer="supervisor" />
        </div>
      )}
      <SendTranscriptForm onSend={onSend} />
    </article>
  );
}

function Fact({ name, value }: { name: string; value: string }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function SuperviseButton({ visitor, onSupervise }: { visitor: string; onSupervise: () => Promise<void> }) {
  const [error, setError] = useState("");
  return (
    <>
      <button type="button" aria-label={`Supervise chat with ${visitor}`} onClick={() => onSupervise().catch((err) => setError(errorText(err)))}>
        Supervise
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </>
  );
}

// SendTranscriptForm mails the visitor's view of the transcript (never whispers) to an address.
export function SendTranscriptForm({ onSend }: { onSend: (to: string) => Promise<void> }) {
  const [to, setTo] = useState("");
  const [state, setState] = useState<{ busy: boolean; sent: string; error: string }>({ busy: false, sent: "", error: "" });
  return (
    <form
      className="send-transcript card"
      aria-label="Send transcript"
      onSubmit={(e) => {
        e.preventDefault();
        const address = to.trim();
        setState({ busy: true, sent: "", error: "" });
        onSend(address).then(
          () => setState({ busy: false, sent: address, error: "" }),
          (err) => setState({ busy: false, sent: "", error: errorText(err) }),
        );
      }}
    >
      <label>
        Email
        <input type="email" required value={to} maxLength={320} onChange={(e) => setTo(e.target.value)} placeholder="name@example.com" />
      </label>
      <button type="submit" disabled={state.busy || !to.trim()}>
        Send transcript
      </button>
      <span role="status" className="muted">
        {state.sent && `Transcript sent to ${state.sent}. Whispers are never included.`}
      </span>
      {state.error && (
        <p role="alert" className="error">
          {state.error}
        </p>
      )}
    </form>
  );
}
