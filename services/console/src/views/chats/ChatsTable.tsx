// ChatsTable is a page of search results, each conversation a link to its transcript.
import { ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import { Sentiment, type AgentLoad, type ChatSummary } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { agentName, dateTime, sentimentLabel, stateLabel, thumbLabel, toDate, visitorName } from "./format";

export function ChatsTable(props: { chats: ChatSummary[]; agents: AgentLoad[]; href: (id: string) => string; onOpen: (id: string) => void }) {
  const { chats, agents, href, onOpen } = props;
  return (
    <div className="table-wrap">
      <table aria-label="Conversations" className="chats-table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Visitor</th>
            <th scope="col">Business unit</th>
            <th scope="col">Agent</th>
            <th scope="col">State</th>
            <th scope="col">Messages</th>
            <th scope="col">CSAT</th>
            <th scope="col">Thumb</th>
            <th scope="col">Sentiment</th>
          </tr>
        </thead>
        <tbody>
          {chats.map((s) => {
            const c = s.conversation!;
            const started = toDate(c.createdAt);
            return (
              <tr key={c.id}>
                <td>{started && <time dateTime={started.toISOString()}>{dateTime(started)}</time>}</td>
                <td>
                  <a
                    href={href(c.id)}
                    onClick={(e) => {
                      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                      e.preventDefault();
                      onOpen(c.id);
                    }}
                  >
                    {visitorName(c)}
                  </a>
                </td>
                <td>{c.businessUnit}</td>
                <td>{agentName(agents, c.agent)}</td>
                <td>
                  <span className={`badge${c.state === ConversationState.CLOSED ? "" : " ok"}`}>{stateLabel(c.state)}</span>
                </td>
                <td className="num">{s.messages}</td>
                <td className="num">{s.csat > 0 ? `${s.csat}/5` : <span className="muted">—</span>}</td>
                <td>{thumbLabel(s.thumb) || <span className="muted">—</span>}</td>
                <td>
                  {s.sentiment === Sentiment.UNSPECIFIED ? (
                    <span className="muted">—</span>
                  ) : (
                    <span className={`sentiment-${sentimentLabel(s.sentiment).toLowerCase()}`} title={`score ${s.sentimentScore.toFixed(2)}`}>
                      {sentimentLabel(s.sentiment)}
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
