// The all-chats filter as the form holds it (strings, as in the page's query string, so a
// search survives opening a transcript and coming back) and as SearchChats and ExportChats
// take it.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Thumb } from "../../gen/switchboard/chat/v1/chat_pb";
import { ChatFilterSchema, ChatStateFilter, Sentiment, type ChatFilter } from "../../gen/switchboard/supervision/v1/supervision_pb";

export interface FilterValues {
  unit: string;
  agent: string;
  from: string; // yyyy-mm-dd, the first day included
  to: string; // yyyy-mm-dd, the last day included
  csatMin: string;
  csatMax: string;
  thumb: "" | "up" | "down";
  sentiment: "" | "positive" | "neutral" | "negative";
  state: "" | "open" | "closed";
  text: string;
}

export const noFilter: FilterValues = { unit: "", agent: "", from: "", to: "", csatMin: "", csatMax: "", thumb: "", sentiment: "", state: "", text: "" };

const keys = Object.keys(noFilter) as (keyof FilterValues)[];

export function filterFromQuery(search: string): FilterValues {
  const q = new URLSearchParams(search);
  const out = { ...noFilter } as Record<keyof FilterValues, string>;
  for (const k of keys) out[k] = q.get(k) ?? "";
  return out as FilterValues;
}

export function filterToQuery(f: FilterValues): string {
  const q = new URLSearchParams();
  for (const k of keys) if (f[k]) q.set(k, f[k]);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// localDay is midnight at the start of a yyyy-mm-dd day in the browser's time zone.
function localDay(day: string, plusDays = 0): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays);
}

const thumbs = { "": Thumb.UNSPECIFIED, up: Thumb.UP, down: Thumb.DOWN };
const sentiments = { "": Sentiment.UNSPECIFIED, positive: Sentiment.POSITIVE, neutral: Sentiment.NEUTRAL, negative: Sentiment.NEGATIVE };
const states = { "": ChatStateFilter.UNSPECIFIED, open: ChatStateFilter.OPEN, closed: ChatStateFilter.CLOSED };

// toChatFilter is the request's filter; the "To" day is included, so the range ends at the
// next midnight.
export function toChatFilter(f: FilterValues): ChatFilter {
  const from = localDay(f.from);
  const to = localDay(f.to, 1);
  const init: MessageInitShape<typeof ChatFilterSchema> = {
    businessUnit: f.unit,
    agent: f.agent,
    from: from && timestampFromDate(from),
    to: to && timestampFromDate(to),
    csatMin: Number(f.csatMin) || 0,
    csatMax: Number(f.csatMax) || 0,
    thumb: thumbs[f.thumb] ?? Thumb.UNSPECIFIED,
    sentiment: sentiments[f.sentiment] ?? Sentiment.UNSPECIFIED,
    state: states[f.state] ?? ChatStateFilter.UNSPECIFIED,
    text: f.text.trim(),
  };
  return create(ChatFilterSchema, init);
}

// filterProblem is what is wrong with a filter before it is sent, or "".
export function filterProblem(f: FilterValues): string {
  if (f.from && f.to && f.to < f.from) return "“To” is before “From”.";
  if (f.csatMin && f.csatMax && Number(f.csatMin) > Number(f.csatMax)) return "The lowest CSAT is above the highest.";
  return "";
}
