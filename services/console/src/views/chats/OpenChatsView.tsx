// OpenChatsView is the open chats page as data makes it: the unit and agent filters, and
// the table of open chats, most recent activity first, each with its last message and a
// "Supervise" button.
import { memo, useState } from "react";
import type { AgentLoad, OpenChat } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import { LastMessage } from "../../ui/LastMessage";
import { SignalBadges } from "./SignalBadges";
import { agentName, dateTime, stateLabel, toDate, visitorName } from "./format";
import { Elapsed, NowContext } from "./now";
import type { LiveOpenChat } from "./openChats";

// rowsShown is how many rows show at first, and how many more each "Show more" adds.
const rowsShown = 100;

export interface OpenChatsFilter {
  unit: string;
  agent: string;
}

export function OpenChatsView(props: {
  chats: LiveOpenChat[];
  ready: boolean;
  units: string[];
  agents: AgentLoad[];
  filter: OpenChatsFilter;
  onFilter: (f: OpenChatsFilter) => void;
  // canSupervise tells whether the user holds Supervise on a unit.
  canSupervise: (unit: string) => boolean;
  // onSupervise should keep its identity across renders: rows re-render only when their
  // chat changes.
  onSupervise: (chat: OpenChat) => void;
  // supervising is the conversation being added, if any.
  supervising?: string;
  reconnecting?: boolean;
  error?: string;
  now?: Date;
}) {
  const { chats, ready, units, agents, filter, onFilter, canSupervise, onSupervise, supervising, reconnecting, error, now = new Date() } = props;
  // A burst of hundreds of queued chats would make every second's update slow: the first
  // rows show, the rest on request.
  const [limit, setLimit] = useState(rowsShown);
  const shown = chats.slice(0, limit);
  const agentChoices = filter.unit ? agents.filter((a) => a.businessUnits.includes(filter.unit)) : agents;
  return (
    <NowContext.Provider value={now}>
      <div className="chats-page">
        <div className="toolbar">
          <label>
            Business unit
            <select value={filter.unit} onChange={(e) => onFilter({ unit: e.target.value, agent: "" })}>
              <option value="">All units</option>
              {units.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          </label>
          <label>
            Agent
            <select value={filter.agent} onChange={(e) => onFilter({ ...filter, agent: e.target.value })}>
              <option value="">All agents</option>
              {agentChoices.map((a) => (
                <option key={a.agent} value={a.agent}>
                  {a.displayName || a.agent}
                </option>
              ))}
            </select>
          </label>
          <span className="muted chats-count" aria-live="polite">
            {ready ? `${chats.length} open chat${chats.length === 1 ? "" : "s"}` : ""}
          </span>
          {reconnecting && <span className="muted">Reconnecting…</span>}
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {!ready && !error && <p className="muted" aria-busy="true">Loading open chats…</p>}
        {ready && chats.length === 0 && <p className="empty">No open chats{filter.unit || filter.agent ? " match these filters" : ""}.</p>}
        {ready && chats.length > 0 && (
          <div className="table-wrap">
            <table aria-label="Open chats" className="chats-table">
              <thead>
                <tr>
                  <th scope="col">Visitor</th>
                  <th scope="col">Business unit</th>
                  <th scope="col">Agent</th>
                  <th scope="col">State</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Last message</th>
                  <th scope="col">Last activity</th>
                  <th scope="col">Signals</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((c) => (
                  <OpenChatRow
                    key={c.chat.conversation!.id}
                    item={c}
                    agent={agentName(agents, c.chat.conversation!.agent)}
                    canSupervise={canSupervise(c.chat.conversation!.businessUnit)}
                    busy={supervising === c.chat.conversation!.id}
                    onSupervise={onSupervise}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {chats.length > shown.length && (
          <p className="more-rows">
            <span className="muted">
              Showing the {shown.length} most recently active of {chats.length}.
            </span>{" "}
            <button type="button" onClick={() => setLimit((n) => n + rowsShown)}>
              Show {Math.min(rowsShown, chats.length - shown.length)} more
            </button>
          </p>
        )}
      </div>
    </NowContext.Provider>
  );
}

const OpenChatRow = memo(OpenChatRowView);

function OpenChatRowView(props: { item: LiveOpenChat; agent: string; canSupervise: boolean; busy: boolean; onSupervise: (chat: OpenChat) => void }) {
  const { item, agent, canSupervise, busy, onSupervise } = props;
  const { chat } = item;
  const c = chat.conversation!;
  const last = toDate(c.lastActivityAt);
  const name = visitorName(c);
  return (
    <tr className={chat.inactive ? "inactive" : undefined}>
      <td>{name}</td>
      <td>{c.businessUnit}</td>
      <td>{agent || <span className="muted">Nobody yet</span>}</td>
      <td>
        <span className="state">{stateLabel(c.state)}</span>{" "}
        {chat.inactive && (
          <span className="badge warning inactive-badge" title="No message for longer than the unit's inactivity threshold">
            Inactive
          </span>
        )}
      </td>
      <td>{c.state === ConversationState.QUEUED ? <Elapsed since={item.queuedAt} /> : <span className="muted">—</span>}</td>
      <td className="last-message-cell">
        <LastMessage message={chat.lastMessage} lines={1} />
      </td>
      <td>
        {last && (
          <time dateTime={last.toISOString()} title={dateTime(last)}>
            <Elapsed since={last} suffix=" ago" />
          </time>
        )}
      </td>
      <td>
        <SignalBadges signals={chat.signals} />
      </td>
      <td>
        <button
          type="button"
          aria-label={`Supervise chat with ${name}`}
          disabled={!canSupervise || busy}
          title={canSupervise ? undefined : `You do not hold Supervise on ${c.businessUnit}`}
          onClick={() => onSupervise(chat)}
        >
          {busy ? "Adding…" : "Supervise"}
        </button>
      </td>
    </tr>
  );
}
