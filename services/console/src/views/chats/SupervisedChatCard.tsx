// SupervisedChatCard is one supervised chat: who and where, the live transcript with the
// agent's draft, a whisper composer, and transfer, finish and stop supervising. It takes
// its data and actions as props; the actions return promises whose failure it shows.
import { useEffect, useRef, useState } from "react";
import { ConversationState, type Conversation } from "../../gen/switchboard/chat/v1/chat_pb";
import type { AgentLoad } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { errorText } from "../../api";
import { Transcript } from "../../ui/Transcript";
import type { TranscriptState } from "../../ui/transcript";
import type { StreamStatus } from "../../ui/useTranscript";
import { agentName, stateLabel, visitorName } from "./format";
import { newMessageId } from "./messageId";
import { TransferDialog, type TransferTarget } from "./TransferDialog";

export interface SupervisedChatActions {
  // whisper sends text under id; resending the same id never stores it twice.
  whisper: (id: string, text: string) => Promise<void>;
  transfer: (target: TransferTarget, note: string) => Promise<void>;
  finish: (reason: string) => Promise<void>;
  stop: () => Promise<void>;
  // openTransfer runs as the transfer dialog opens (to read agents' load afresh).
  openTransfer?: () => void;
}

export function SupervisedChatCard(props: {
  conversation: Conversation;
  transcript: { state: TranscriptState; status: StreamStatus; error: string };
  agents: AgentLoad[];
  units: string[];
  actions: SupervisedChatActions;
}) {
  const { conversation: c, transcript, agents, units, actions } = props;
  const name = visitorName(c);
  const ended = transcript.state.closed || c.state === ConversationState.CLOSED;
  const [error, setError] = useState("");
  const [stopping, setStopping] = useState(false);

  async function stop() {
    setStopping(true);
    setError("");
    try {
      await actions.stop();
    } catch (err) {
      setError(errorText(err));
      setStopping(false);
    }
  }

  return (
    <section className={`card supervised-chat${ended ? " ended" : ""}`} aria-label={`Chat with ${name}`}>
      <header className="supervised-head">
        <h2>{name}</h2>
        <dl className="supervised-facts">
          <div>
            <dt>Agent</dt>
            <dd>{c.agent ? agentName(agents, c.agent) : "Nobody yet"}</dd>
          </div>
          <div>
            <dt>Unit</dt>
            <dd>{c.businessUnit}</dd>
          </div>
          <div>
            <dt>State</dt>
            <dd>
              <span className={`badge${ended ? "" : " ok"}`}>{ended ? "Ended" : stateLabel(c.state)}</span>
            </dd>
          </div>
        </dl>
        {transcript.status === "reconnecting" && <span className="muted">Reconnecting… {transcript.error}</span>}
      </header>
      <Transcript state={transcript.state} viewer="supervisor" showDrafts />
      {ended ? (
        <p className="ended-note" role="status">
          This conversation has ended.
        </p>
      ) : (
        <>
          <WhisperComposer whisper={actions.whisper} />
        </>
      )}
      <div className="supervised-actions">
        {!ended && <TransferControl visitor={name} conversation={c} agents={agents} units={units} actions={actions} />}
        {!ended && <FinishControl finish={actions.finish} />}
        <button type="button" className="stop" onClick={() => void stop()} disabled={stopping}>
          Stop supervising
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}

// WhisperComposer keeps a whisper's id while it is being retried: a resend after a failure
// is the same whisper; an edit makes a new one.
export function WhisperComposer({ whisper }: { whisper: (id: string, text: string) => Promise<void> }) {
  const [text, setText] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState("");
  const id = useRef<string | null>(null);

  async function send() {
    const body = text.trim();
    if (!body || pending) return;
    id.current ??= newMessageId();
    setPending(true);
    setError("");
    try {
      await whisper(id.current, body);
      id.current = null;
      setText("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setPending(false);
    }
  }

  return (
    <form
      className="whisper-form"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        aria-label="Whisper to agent"
        placeholder="Only the agent sees it · Ctrl+Enter sends"
        rows={2}
        maxLength={4096}
        value={text}
        onChange={(e) => {
          id.current = null;
          setText(e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <button type="submit" className="primary" disabled={pending || !text.trim()}>
        Whisper
      </button>
      {error && (
        <p role="alert" className="error">
          {error} <span className="muted">Press Whisper again to retry.</span>
        </p>
      )}
    </form>
  );
}

function TransferControl(props: { visitor: string; conversation: Conversation; agents: AgentLoad[]; units: string[]; actions: SupervisedChatActions }) {
  const { visitor, conversation: c, agents, units, actions } = props;
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const opener = useRef<HTMLButtonElement>(null);

  function close() {
    setOpen(false);
    setError("");
    opener.current?.focus();
  }

  async function confirm(target: TransferTarget, note: string) {
    setBusy(true);
    setError("");
    try {
      await actions.transfer(target, note);
      close();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button
        ref={opener}
        type="button"
        onClick={() => {
          actions.openTransfer?.();
          setOpen(true);
        }}
      >
        Transfer
      </button>
      {open && (
        <TransferDialog
          visitor={visitor}
          unit={c.businessUnit}
          currentAgent={c.agent}
          agents={agents}
          units={units}
          busy={busy}
          error={error}
          onConfirm={(t, n) => void confirm(t, n)}
          onClose={close}
        />
      )}
    </>
  );
}

// FinishControl asks before closing: "Finish", then "Finish conversation" with an optional reason.
function FinishControl({ finish }: { finish: (reason: string) => Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const confirmButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirmButton.current?.focus();
  }, [asking]);

  async function confirm() {
    setBusy(true);
    setError("");
    try {
      await finish(reason.trim());
      setAsking(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (!asking) {
    return (
      <button type="button" className="danger" onClick={() => setAsking(true)}>
        Finish
      </button>
    );
  }
  return (
    <div
      className="finish-confirm"
      role="group"
      aria-label="Finish this conversation?"
      onKeyDown={(e) => {
        if (e.key === "Escape") setAsking(false);
      }}
    >
      <input aria-label="Reason (optional)" placeholder="Reason (optional)" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      <button ref={confirmButton} type="button" className="danger" disabled={busy} onClick={() => void confirm()}>
        Finish conversation
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
