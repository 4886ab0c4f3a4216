// useNow is the time, renewed every ms milliseconds, for "… ago" and waiting texts.
import { useEffect, useState } from "react";

export function useNow(ms: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
