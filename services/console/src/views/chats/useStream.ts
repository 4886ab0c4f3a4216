// useStream follows a server stream while mounted, anew whenever key changes: on a
// failure it shows the server's words, waits (1 s, 2 s, … 10 s) and opens it again.
// onOpen runs before each (re)opening, so a stream that starts with a snapshot can start
// collecting it afresh.
import { useEffect, useRef, useState } from "react";
import { errorText, isAbort } from "../../api";

export type Open<T> = (signal: AbortSignal) => AsyncIterable<T>;

export function useStream<T>(open: Open<T> | null, key: string, onMessage: (m: T) => void, onOpen?: () => void): { reconnecting: boolean; error: string } {
  const [reconnecting, setReconnecting] = useState(false);
  const [error, setError] = useState("");
  const handlers = useRef({ open, onMessage, onOpen });
  handlers.current = { open, onMessage, onOpen };

  useEffect(() => {
    if (!handlers.current.open) return;
    const abort = new AbortController();
    (async () => {
      let failures = 0;
      while (!abort.signal.aborted) {
        try {
          handlers.current.onOpen?.();
          for await (const m of handlers.current.open!(abort.signal)) {
            failures = 0;
            setReconnecting(false);
            setError("");
            handlers.current.onMessage(m);
          }
        } catch (err) {
          if (abort.signal.aborted || isAbort(err)) return;
          setError(errorText(err));
        }
        if (abort.signal.aborted) return;
        failures++;
        setReconnecting(true);
        await sleep(Math.min(1000 * 2 ** (failures - 1), 10000), abort.signal);
      }
    })();
    return () => abort.abort();
  }, [key]);

  return { reconnecting, error };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
