// ConversationPane is the open conversation: the transcript (whispers marked, the
// visitor's draft shown greyed), the reply box, accept, transfer and close.
import { useRef, useState } from "react";
import { ConversationState, type ListTransferTargetsResponse } from "../../gen/switchboard/chat/v1/chat_pb";
import { errorText } from "../../transport";
import { Composer } from "../../ui/Composer";
import { Transcript } from "../../ui/Transcript";
import type { Chat } from "./desk";
import { visitorName } from "./desk";
import { TransferDialog, type TransferTarget } from "./TransferDialog";

export interface PaneActions {
  accept: () => Promise<void>;
  send: (text: string, clientMessageId: string) => Promise<void>;
  draft: (text: string) => Promise<void>;
  transfer: (target: TransferTarget, note: string) => Promise<void>;
  close: () => Promise<void>;
  dismiss: () => void;
  back: () => void;
}

export function ConversationPane(props: {
  chat: Chat;
  agentId: string;
  units: string[];
  actions: PaneActions;
  text: string;
  onTextChange: (text: string) => void;
  // listTargets lists where a conversation may be transferred.
  listTargets?: (conversationId: string) => Promise<ListTransferTargetsResponse>;
}) {
  const { chat, actions } = props;
  const c = chat.conversation;
  const name = visitorName(c);
  const [transferring, setTransferring] = useState(false);
  const [error, setError] = useState("");
  const [transferError, setTransferError] = useState("");
  const [busy, setBusy] = useState(false);
  const transferButton = useRef<HTMLButtonElement>(null);
  const endTransfer = () => {
    setTransferring(false);
    transferButton.current?.focus();
  };
  const toAccept = c.state === ConversationState.ASSIGNED && !chat.ended;

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await f();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="ws-conversation" aria-label={`Conversation with ${name}`}>
      <header className="ws-conv-head">
        <button type="button" className="ws-back" onClick={actions.back}>
          ← Back to conversations
        </button>
        <div className="ws-conv-title">
          <h2>{name}</h2>
          <span className="muted">
            {c.businessUnit}
            {chat.ended ? " · ended" : toAccept ? " · waiting for you to accept" : ""}
          </span>
        </div>
        <div className="ws-conv-actions">
          {toAccept && (
            <button type="button" className="primary" disabled={busy} onClick={() => run(actions.accept)}>
              Accept
            </button>
          )}
          {!chat.ended && (
            <>
              <button
                ref={transferButton}
                type="button"
                disabled={busy}
                onClick={() => {
                  setTransferError("");
                  setTransferring(true);
                }}
              >
                Transfer
              </button>
              <button type="button" className="danger" disabled={busy} onClick={() => run(actions.close)}>
                Close conversation
              </button>
            </>
          )}
          {chat.ended && (
            <button type="button" onClick={actions.dismiss}>
              Remove from list
            </button>
          )}
        </div>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Transcript state={chat.transcript} viewer="agent" viewerId={props.agentId} showDrafts />
      {chat.ended ? (
        <p className="muted ws-ended">This conversation has ended.</p>
      ) : (
        <Composer
          key={c.id}
          label="Reply"
          placeholder="Write a reply — Enter sends, Shift+Enter for a new line"
          send={actions.send}
          draft={actions.draft}
          initialText={props.text}
          onTextChange={props.onTextChange}
        />
      )}
      {transferring && (
        <TransferDialog
          units={props.units}
          currentUnit={c.businessUnit}
          load={props.listTargets && (() => props.listTargets!(c.id))}
          error={transferError}
          onCancel={endTransfer}
          onConfirm={async (target, note) => {
            try {
              await actions.transfer(target, note);
              setTransferring(false);
            } catch (err) {
              setTransferError(errorText(err));
            }
          }}
        />
      )}
    </section>
  );
}
