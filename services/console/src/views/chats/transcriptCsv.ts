// A transcript from ExportTranscript's CSV (seq, time, author_kind, author, kind, text):
// the way to read a conversation that needs only AllChats, closed ones included.
import { SystemEventKind } from "../../gen/switchboard/chat/v1/chat_pb";
import { systemText, type AuthorRole, type Entry, type TranscriptState } from "../../ui/transcript";

// parseCsv reads RFC 4180 CSV: quoted cells may hold commas, quotes ("") and line breaks.
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

// unsafeCell undoes the export's spreadsheet guard: a cell that would run as a formula
// was written with a leading single quote.
export function unsafeCell(cell: string): string {
  return /^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

const roles: Record<string, AuthorRole> = { visitor: "visitor", agent: "agent", supervisor: "supervisor" };

const systemKinds: Record<string, SystemEventKind> = {
  started: SystemEventKind.STARTED,
  queued: SystemEventKind.QUEUED,
  assigned: SystemEventKind.ASSIGNED,
  accepted: SystemEventKind.ACCEPTED,
  transferred: SystemEventKind.TRANSFERRED,
  closed: SystemEventKind.CLOSED,
  rated: SystemEventKind.RATED,
};

// systemLine says a system row for people as the live transcript does. The export writes
// it as "<kind> <agent> <unit> <detail>", each part possibly empty (agents and units are
// names without spaces).
function systemLine(text: string): { text: string; closed: boolean } {
  const [kind, agent = "", unit = "", ...detail] = text.split(" ");
  const k = systemKinds[kind];
  if (k === undefined) return { text, closed: false };
  return { text: systemText(k, agent, unit, detail.join(" ").trim()), closed: k === SystemEventKind.CLOSED };
}

// csvTranscript turns an exported transcript into what Transcript shows.
export function csvTranscript(csv: string): TranscriptState {
  const [header, ...rows] = parseCsv(csv);
  const col = (name: string) => header?.indexOf(name) ?? -1;
  const [seqAt, timeAt, authorKindAt, authorAt, kindAt, textAt] = ["seq", "time", "author_kind", "author", "kind", "text"].map(col);
  const entries: Entry[] = [];
  let closed = false;
  for (const r of rows) {
    if (r.length < header.length) continue;
    const kind = r[kindAt];
    const text = unsafeCell(r[textAt]);
    const at = r[timeAt] ? new Date(r[timeAt]) : undefined;
    const seq = BigInt(/^\d+$/.test(r[seqAt]) ? r[seqAt] : entries.length + 1);
    if (kind === "system") {
      const s = systemLine(text);
      closed ||= s.closed;
      entries.push({ seq, kind: "system", author: "system", authorId: "", name: "Switchboard", text: s.text, at });
      continue;
    }
    const author = roles[r[authorKindAt]] ?? "system";
    entries.push({ seq, kind: kind === "whisper" ? "whisper" : "message", author, authorId: "", name: unsafeCell(r[authorAt]) || author, text, at });
  }
  return { entries, lastSeq: entries.at(-1)?.seq ?? 0n, drafts: {}, typing: {}, closed };
}
