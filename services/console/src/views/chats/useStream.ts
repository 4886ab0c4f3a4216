// useStream follows a server stream while mounted, anew whenever key changes, kept open by
// keepStreaming (the server's words shown while it waits to open it again). onOpen runs
// before each (re)opening, so a stream that starts with a snapshot can start collecting it
// afresh.
import { useEffect, useRef, useState } from "react";
import { errorText } from "../../api";
import { keepStreaming } from "../../ui/retry";

export type Open<T> = (signal: AbortSignal) => AsyncIterable<T>;

export function useStream<T>(open: Open<T> | null, key: string, onMessage: (m: T) => void, onOpen?: () => void): { reconnecting: boolean; error: string } {
  const [reconnecting, setReconnecting] = useState(false);
  const [error, setError] = useState("");
  const handlers = useRef({ open, onMessage, onOpen });
  handlers.current = { open, onMessage, onOpen };

  useEffect(() => {
    if (!handlers.current.open) return;
    const abort = new AbortController();
    void keepStreaming(
      abort.signal,
      async (alive) => {
        handlers.current.onOpen?.();
        for await (const m of handlers.current.open!(abort.signal)) {
          alive();
          setReconnecting(false);
          setError("");
          handlers.current.onMessage(m);
        }
      },
      (err, retrying) => {
        setError(errorText(err));
        setReconnecting(retrying);
      },
    );
    return () => abort.abort();
  }, [key]);

  return { reconnecting, error };
}
