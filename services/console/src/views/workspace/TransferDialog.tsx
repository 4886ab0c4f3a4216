// TransferDialog hands a conversation to an agent or to a business unit's queue, from the
// targets the server lists (ListTransferTargets): agents who can take it now first, with
// their load, the others shown but disabled with why. Escape or Cancel closes it without
// a change.
import { useEffect, useId, useRef, useState } from "react";
import { AgentStatus, type ListTransferTargetsResponse, type TransferAgent } from "../../gen/switchboard/chat/v1/chat_pb";
import { errorText } from "../../api";

export type TransferTarget = { case: "businessUnit"; value: string } | { case: "agent"; value: string };

const toAgent = "agent";

export function TransferDialog(props: {
  units: string[];
  currentUnit: string;
  onConfirm: (target: TransferTarget, note: string) => Promise<void>;
  onCancel: () => void;
  error: string;
  // load lists where the conversation may go; without it (or until it answers) the units
  // above and a named agent are offered.
  load?: () => Promise<ListTransferTargetsResponse>;
}) {
  const [targets, setTargets] = useState<ListTransferTargetsResponse | null>(null);
  const [loadError, setLoadError] = useState("");
  useEffect(() => {
    props.load?.().then(setTargets, (err) => setLoadError(errorText(err)));
    // Listed once, when the dialog opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const [choice, setChoice] = useState(props.currentUnit ? `unit:${props.currentUnit}` : props.units[0] ? `unit:${props.units[0]}` : toAgent);
  const [agent, setAgent] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLSelectElement>(null);
  const id = useId();
  useEffect(() => first.current?.focus(), []);

  const target: TransferTarget | null =
    choice === toAgent
      ? agent.trim()
        ? { case: "agent", value: agent.trim() }
        : null
      : choice.startsWith("agent:")
        ? { case: "agent", value: choice.slice("agent:".length) }
        : { case: "businessUnit", value: choice.slice("unit:".length) };

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
            {targets ? (
              <>
                <optgroup label="Agents">
                  {targets.agents.map((a) => (
                    <option key={a.agent} value={`agent:${a.agent}`} disabled={!a.canTakeNow}>
                      {agentLabel(a)}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Business units (queue)">
                  {targets.businessUnits.map((u) => (
                    <option key={u.businessUnit} value={`unit:${u.businessUnit}`}>
                      {`${u.displayName || u.businessUnit}${u.current ? " (this business unit)" : ""} — ${u.agentsOnline} online`}
                    </option>
                  ))}
                </optgroup>
              </>
            ) : (
              <>
                {props.units.map((u) => (
                  <option key={u} value={`unit:${u}`}>
                    {u === props.currentUnit ? `${u} (this business unit)` : `${u} (business unit)`}
                  </option>
                ))}
                <option value={toAgent}>A named agent…</option>
              </>
            )}
          </select>
          {loadError && <p className="muted">Could not list the agents: {loadError}</p>}
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

const statusNames: Partial<Record<AgentStatus, string>> = {
  [AgentStatus.AVAILABLE]: "available",
  [AgentStatus.BUSY]: "busy",
  [AgentStatus.AWAY]: "away",
};

// agentLabel says who an agent is, their load, and why they cannot take it if they cannot.
export function agentLabel(a: TransferAgent): string {
  const load = `${a.openConversations}/${a.capacity}`;
  const name = a.displayName || a.agent;
  if (a.canTakeNow) return `${name} — ${load}${a.servesUnit ? "" : " (another unit)"}`;
  const why = a.status === AgentStatus.AVAILABLE && a.openConversations >= a.capacity ? `full ${load}` : (statusNames[a.status] ?? "offline");
  return `${name} — ${why}`;
}
