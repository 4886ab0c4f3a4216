// Composer writes a chat message: Enter sends, Shift+Enter starts a new line, typing is
// reported as drafts (throttled), and a message that failed stays in the box with the error,
// to be sent again under the same client message id (never stored twice).
import { useEffect, useMemo, useRef, useState } from "react";
import { errorText } from "../transport";
import { newClientMessageId, throttleDrafts } from "./compose";
import "./composer.css";

export function Composer(props: {
  label: string;
  send: (text: string, clientMessageId: string) => Promise<unknown>;
  // draft reports the typed text; its failures only cost the other side's "typing".
  draft?: (text: string) => Promise<unknown>;
  disabled?: boolean;
  // initialText and onTextChange keep unsent text across remounts (switching chats).
  initialText?: string;
  onTextChange?: (text: string) => void;
  placeholder?: string;
}) {
  const { label, send, draft, disabled = false, onTextChange } = props;
  const [text, setText] = useState(props.initialText ?? "");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState("");
  // attempt is the message being sent: its id is reused while its text is unchanged.
  const attempt = useRef<{ id: string; text: string } | null>(null);
  const draftRef = useRef(draft);
  draftRef.current = draft;
  const drafts = useMemo(() => throttleDrafts((t) => void draftRef.current?.(t)?.catch(() => {})), []);
  useEffect(() => () => drafts.stop(), [drafts]);

  const change = (t: string) => {
    setText(t);
    onTextChange?.(t);
    if (draftRef.current) drafts.update(t);
  };

  const submit = async () => {
    if (sending || disabled || !text.trim()) return;
    if (!attempt.current || attempt.current.text !== text) attempt.current = { id: newClientMessageId(), text };
    const { id } = attempt.current;
    setSending(true);
    setError("");
    try {
      await send(text, id);
      attempt.current = null;
      drafts.sent();
      setText("");
      onTextChange?.("");
    } catch (err) {
      setError(`Not sent: ${errorText(err)}`);
    } finally {
      setSending(false);
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        aria-label={label}
        value={text}
        rows={2}
        placeholder={props.placeholder}
        readOnly={sending}
        disabled={disabled}
        onChange={(e) => change(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <button type="submit" className="primary" disabled={disabled || sending || !text.trim()}>
        Send
      </button>
      {error && (
        <p className="error composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
