// How the chat views say things: names, states, durations and times, one way each.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ConversationState, Thumb, type Conversation } from "../../gen/switchboard/chat/v1/chat_pb";
import { Sentiment } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { SignalLevel } from "../../gen/switchboard/supervision/v1/signal_pb";
import type { AgentLoad } from "../../gen/switchboard/supervision/v1/supervision_pb";

// visitorName is how a conversation's visitor is called; a visitor who gave no name is
// "Anonymous visitor".
export function visitorName(c: Conversation | undefined): string {
  return c?.visitorName || "Anonymous visitor";
}

export function stateLabel(s: ConversationState): string {
  switch (s) {
    case ConversationState.QUEUED:
      return "Queued";
    case ConversationState.ASSIGNED:
      return "Assigned";
    case ConversationState.ACTIVE:
      return "Active";
    case ConversationState.CLOSED:
      return "Closed";
    default:
      return "Unknown";
  }
}

export function thumbLabel(t: Thumb): string {
  return t === Thumb.UP ? "Thumb up" : t === Thumb.DOWN ? "Thumb down" : "";
}

export function sentimentLabel(s: Sentiment): string {
  switch (s) {
    case Sentiment.POSITIVE:
      return "Positive";
    case Sentiment.NEUTRAL:
      return "Neutral";
    case Sentiment.NEGATIVE:
      return "Negative";
    default:
      return "";
  }
}

// levelClass is the shared stylesheet's colour class for a signal level.
export function levelClass(l: SignalLevel): "critical" | "warning" {
  return l === SignalLevel.CRITICAL ? "critical" : "warning";
}

// duration says a number of seconds as "45s", "3m 05s", "2h 07m".
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export function toDate(t: Timestamp | undefined): Date | undefined {
  return t ? timestampDate(t) : undefined;
}

// Formatters are made once: making one per cell is what slows a long table down.
const timeFormat = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const dayTimeFormat = new Intl.DateTimeFormat([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

// dateTime says when, briefly: the time alone today, the date and time otherwise.
export function dateTime(d: Date | undefined, now = new Date()): string {
  if (!d) return "";
  return d.toDateString() === now.toDateString() ? timeFormat.format(d) : dayTimeFormat.format(d);
}

// agentName is an agent's name for people, from the agents listed (their identity if unknown).
export function agentName(agents: AgentLoad[], id: string): string {
  if (!id) return "";
  return agents.find((a) => a.agent === id)?.displayName || id;
}
