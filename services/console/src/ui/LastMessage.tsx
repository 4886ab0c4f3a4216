// LastMessage is an open chat's last message in a list: who wrote it and how it starts,
// cut with an ellipsis after one or two lines. The server sends the first 200 characters
// and says whether there was more; the full preview is in the tooltip.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuthorKind } from "../gen/switchboard/chat/v1/chat_pb";
import type { MessagePreview } from "../gen/switchboard/supervision/v1/supervision_pb";
import "./lastMessage.css";

export function authorLabel(m: MessagePreview): string {
  const name = m.author?.displayName || m.author?.id || "";
  const role = m.author?.kind === AuthorKind.VISITOR ? "Visitor" : "Agent";
  return name || role;
}

export function LastMessage(props: { message: MessagePreview | undefined; lines: 1 | 2 }) {
  const m = props.message;
  if (!m) return <span className="muted">No message yet</span>;
  const author = authorLabel(m);
  const text = m.text + (m.truncated ? "…" : "");
  const at = m.createdAt ? timestampDate(m.createdAt) : undefined;
  const kind = m.author?.kind === AuthorKind.VISITOR ? "visitor" : "agent";
  return (
    <p className={`last-message lines-${props.lines}`} data-author={kind} title={`${author}${at ? ` at ${at.toLocaleTimeString()}` : ""}: ${text}`}>
      <span className="last-message-author">{author}:</span> {text}
    </p>
  );
}
