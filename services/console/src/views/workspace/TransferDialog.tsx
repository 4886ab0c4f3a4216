// TransferDialog hands a conversation to a business unit's queue or to a named agent.
// Escape or Cancel closes it without a change.
import { useEffect, useId, useRef, useState } from "react";

export type TransferTarget = { case: "businessUnit"; value: string } | { case: "agent"; value: string };

const toAgent = "agent";

export function TransferDialog(props: {
  units: string[];
  currentUnit: string;
  onConfirm: (target: TransferTarget, note: string) => Promise<void>;
  onCancel: () => void;
  error: string;
}) {
  const [choice, setChoice] = useState(props.currentUnit ? `unit:${props.currentUnit}` : props.units[0] ? `unit:${props.units[0]}` : toAgent);
  const [agent, setAgent] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLSelectElement>(null);
  const id = useId();
  useEffect(() => first.current?.focus(), []);

  const target: TransferTarget | null =
    choice === toAgent ? (agent.trim() ? { case: "agent", value: agent.trim() } : null) : { case: "businessUnit", value: choice.slice("unit:".length) };

  return (
    <div className="ws-dialog-backdrop">
      <div
        className="ws-dialog card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="ws-transfer-title"
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            props.onCancel();
          }
        }}
      >
        <h3 id="ws-transfer-title">Transfer conversation</h3>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            if (!target || busy) return;
            setBusy(true);
            try {
              await props.onConfirm(target, note.trim());
            } finally {
              setBusy(false);
            }
          }}
        >
          <label htmlFor={`${id}-to`}>Transfer to</label>
          <select id={`${id}-to`} ref={first} value={choice} onChange={(e) => setChoice(e.target.value)}>
            {props.units.map((u) => (
              <option key={u} value={`unit:${u}`}>
                {u === props.currentUnit ? `${u} (this business unit)` : `${u} (business unit)`}
              </option>
            ))}
            <option value={toAgent}>A named agent…</option>
          </select>
          {choice === toAgent && (
            <>
              <label htmlFor={`${id}-agent`}>Agent username</label>
              <input id={`${id}-agent`} value={agent} onChange={(e) => setAgent(e.target.value)} autoComplete="off" />
            </>
          )}
          <label htmlFor={`${id}-note`}>Note for the next agent (optional)</label>
          <textarea id={`${id}-note`} value={note} rows={2} maxLength={500} onChange={(e) => setNote(e.target.value)} />
          {props.error && (
            <p className="error" role="alert">
              {props.error}
            </p>
          )}
          <div className="ws-dialog-actions">
            <button type="button" onClick={props.onCancel}>
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
