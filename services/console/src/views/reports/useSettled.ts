import { useEffect, useState } from "react";

// useSettled is value once it has stopped changing for ms: typing a search or a time
// zone then sends one request, not one per key.
export function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}
