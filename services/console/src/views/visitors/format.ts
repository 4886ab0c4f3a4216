// How the visitors view shows people and moments.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Visitor } from "../../gen/switchboard/supervision/v1/supervision_pb";

const moment = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(ts: Timestamp | undefined): string {
  return ts ? moment.format(timestampDate(ts)) : "–";
}

// seconds between two timestamps, 0 when either is missing.
export function secondsBetween(from: Timestamp | undefined, to: Timestamp | undefined): number {
  if (!from || !to) return 0;
  return (timestampDate(to).getTime() - timestampDate(from).getTime()) / 1000;
}

// visitorName is what to call a visitor: the name, else how to reach them.
export function visitorName(v: Visitor | undefined): string {
  const p = v?.profile;
  return p?.name.trim() || p?.email || p?.phone.trim() || "Anonymous visitor";
}

// safeHref is a page's address as a link only when it is a web page: a visitor's browser
// reports it, so it could be a javascript: URL.
export function safeHref(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}
