// Transcript shows a conversation: messages, whispers (a supervisor's, marked, never shown
// to visitors: the visitor's stream never carries them), system events, and who is typing
// or drafting right now. Everything users wrote is rendered as text.
import { useEffect, useRef } from "react";
import type { AuthorRole, Entry, Live, TranscriptState } from "./transcript";
import "./transcript.css";

export function Transcript(props: {
  state: TranscriptState;
  // viewer is who looks: their own entries read "You".
  viewer: AuthorRole;
  viewerId?: string;
  // showDrafts shows drafts (staff only).
  showDrafts?: boolean;
  label?: string;
}) {
  const { state, viewer, viewerId, showDrafts = false, label = "Messages" } = props;
  const box = useRef<HTMLDivElement>(null);
  const live = [...(showDrafts ? Object.values(state.drafts) : []), ...Object.values(state.typing).filter((t) => !(showDrafts && Object.values(state.drafts).some((d) => d.author === t.author && d.name === t.name)))];

  // Stay at the bottom while the reader is there.
  const atBottom = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [state.entries.length, live.length, live.map((l) => l.text).join("")]);

  return (
    <div
      ref={box}
      className="transcript"
      role="log"
      aria-label={label}
      aria-live="polite"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {state.entries.length === 0 && <p className="muted">No messages yet.</p>}
      {state.entries.map((e) => (
        <EntryView
          key={String(e.seq)}
          entry={e}
          mine={e.author === viewer && (!viewerId || e.authorId === viewerId)}
          right={viewer === "visitor" ? e.author === "visitor" : e.author !== "visitor"}
        />
      ))}
      {live.map((l) => (
        <LiveView key={`${l.author}:${l.name}:${l.text ? "d" : "t"}`} live={l} />
      ))}
    </div>
  );
}

// EntryView shows one stored entry; right puts it on the viewer's side.
function EntryView({ entry, mine, right }: { entry: Entry; mine: boolean; right: boolean }) {
  const time = entry.at?.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (entry.kind === "system") {
    return (
      <div className="entry system" data-kind="system" data-author="system">
        <span>{entry.text}</span>
        {time && <time dateTime={entry.at?.toISOString()}>{time}</time>}
      </div>
    );
  }
  return (
    <div className={`entry ${entry.kind} from-${entry.author}${right ? " right" : ""}`} data-kind={entry.kind} data-author={entry.author}>
      <div className="meta">
        <span className="who">{entry.kind === "whisper" ? `Whisper from ${entry.name}` : mine ? "You" : entry.name}</span>
        {time && <time dateTime={entry.at?.toISOString()}>{time}</time>}
      </div>
      <div className="text">{entry.text}</div>
    </div>
  );
}

function LiveView({ live }: { live: Live }) {
  if (live.text) {
    return (
      <div className={`entry draft from-${live.author}${live.author === "visitor" ? "" : " right"}`} data-kind="draft" data-author={live.author}>
        <div className="meta">
          <span className="who">{live.name} is writing:</span>
        </div>
        <div className="text">{live.text}</div>
      </div>
    );
  }
  return (
    <div className="entry typing" data-kind="typing" data-author={live.author}>
      {live.name} is typing…
    </div>
  );
}
