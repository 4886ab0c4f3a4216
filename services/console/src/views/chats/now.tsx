// The time a page's "… ago" and waiting texts count from, shared through a context so
// that only those texts re-render each second, not the rows around them.
import { createContext, useContext } from "react";
import { duration } from "./format";

export const NowContext = createContext<Date>(new Date());

// Elapsed says how long ago since was, as of the page's now.
export function Elapsed({ since, suffix = "" }: { since: Date; suffix?: string }) {
  const now = useContext(NowContext);
  return (
    <>
      {duration((now.getTime() - since.getTime()) / 1000)}
      {suffix}
    </>
  );
}
