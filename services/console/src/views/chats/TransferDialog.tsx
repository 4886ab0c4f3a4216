// TransferDialog picks where a conversation goes: an agent of its unit (with their load)
// or another unit's queue, with an optional note. Escape or "Cancel" closes it.
import { useEffect, useRef, useState } from "react";
import { AgentStatus } from "../../gen/switchboard/chat/v1/chat_pb";
import type { AgentLoad } from "../../gen/switchboard/supervision/v1/supervision_pb";

export type TransferTarget = { agent: string } | { businessUnit: string };

export function statusLabel(s: AgentStatus): string {
  switch (s) {
    case AgentStatus.AVAILABLE:
      return "available";
    case AgentStatus.BUSY:
      return "busy";
    case AgentStatus.AWAY:
      return "away";
    default:
      return "offline";
  }
}

export function TransferDialog(props: {
  visitor: string;
  unit: string;
  currentAgent: string;
  agents: AgentLoad[];
  units: string[];
  busy: boolean;
  error: string;
  onConfirm: (target: TransferTarget, note: string) => void;
  onClose: () => void;
}) {
  const { visitor, unit, currentAgent, agents, units, busy, error, onConfirm, onClose } = props;
  const colleagues = agents.filter((a) => a.businessUnits.includes(unit) && a.agent !== currentAgent);
  const otherUnits = units.filter((u) => u !== unit);
  const [target, setTarget] = useState("");
  const [note, setNote] = useState("");
  const first = useRef<HTMLSelectElement>(null);
  const titleId = `transfer-title-${useRef(Math.random().toString(36).slice(2)).current}`;

  useEffect(() => {
    first.current?.focus();
  }, []);

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const [kind, name] = [target.slice(0, target.indexOf(":")), target.slice(target.indexOf(":") + 1)];
    if (!name) return;
    onConfirm(kind === "agent" ? { agent: name } : { businessUnit: name }, note.trim());
  }

  return (
    <div className="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        className="dialog card"
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            onClose();
          } else if (e.key === "Tab") keepFocusInside(e);
        }}
      >
        <h2 id={titleId}>Transfer chat with {visitor}</h2>
        <form onSubmit={submit} className="dialog-form">
          <label>
            Transfer to
            <select ref={first} value={target} onChange={(e) => setTarget(e.target.value)} required>
              <option value="">Choose an agent or a unit…</option>
              {colleagues.length > 0 && (
                <optgroup label={`Agents of ${unit}`}>
                  {colleagues.map((a) => (
                    <option key={a.agent} value={`agent:${a.agent}`}>
                      {a.displayName || a.agent} — {a.openConversations}/{a.capacity}, {statusLabel(a.status)}
                    </option>
                  ))}
                </optgroup>
              )}
              {otherUnits.length > 0 && (
                <optgroup label="Other units">
                  {otherUnits.map((u) => (
                    <option key={u} value={`unit:${u}`}>
                      {u} (queue)
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          </label>
          {colleagues.length === 0 && otherUnits.length === 0 && <p className="muted">No other agent or unit to transfer to.</p>}
          <label>
            Note (optional)
            <textarea value={note} maxLength={500} rows={2} onChange={(e) => setNote(e.target.value)} />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={!target || busy}>
              Confirm transfer
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

// keepFocusInside wraps Tab from the dialog's last control to its first (and Shift+Tab
// back), so that keyboard users stay in the modal dialog.
function keepFocusInside(e: React.KeyboardEvent<HTMLElement>) {
  const controls = Array.from(e.currentTarget.querySelectorAll<HTMLElement>("select, textarea, input, button:not(:disabled)"));
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last?.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first?.focus();
  }
}
