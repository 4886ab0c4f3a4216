// ExportControl runs a streamed CSV export of the current filter: the button, live
// progress (rows and bytes), cancel, and the download at the end.
import { useEffect, useRef, useState } from "react";
import { errorText, isAbort } from "../../api";
import { collectCsv, download, size, stampedName, type ExportProgress } from "./exportCsv";

export type ExportState =
  | { phase: "idle" }
  | { phase: "running"; progress: ExportProgress }
  | { phase: "done"; progress: ExportProgress; file: string }
  | { phase: "cancelled" }
  | { phase: "failed"; error: string };

export type OpenExport = (signal: AbortSignal) => AsyncIterable<{ csv: Uint8Array; rows?: bigint }>;

// useExport starts, follows and cancels one export at a time; unmounting cancels it.
export function useExport(open: OpenExport, prefix: string): { state: ExportState; start: () => void; cancel: () => void } {
  const [state, setState] = useState<ExportState>({ phase: "idle" });
  const running = useRef<AbortController | null>(null);
  useEffect(() => () => running.current?.abort(), []);

  async function start() {
    running.current?.abort();
    const abort = new AbortController();
    running.current = abort;
    setState({ phase: "running", progress: { rows: 0, bytes: 0 } });
    try {
      let last: ExportProgress = { rows: 0, bytes: 0 };
      const blob = await collectCsv(open(abort.signal), (progress) => {
        last = progress;
        if (!abort.signal.aborted) setState({ phase: "running", progress });
      });
      if (abort.signal.aborted) return;
      const file = stampedName(prefix);
      download(blob, file);
      setState({ phase: "done", progress: last, file });
    } catch (err) {
      if (abort.signal.aborted || isAbort(err)) setState({ phase: "cancelled" });
      else setState({ phase: "failed", error: errorText(err) });
    } finally {
      if (running.current === abort) running.current = null;
    }
  }

  return {
    state,
    start: () => void start(),
    cancel: () => {
      running.current?.abort();
      setState({ phase: "cancelled" });
    },
  };
}

export function ExportControl({ state, onStart, onCancel }: { state: ExportState; onStart: () => void; onCancel: () => void }) {
  const counted = (p: ExportProgress) => `${p.rows.toLocaleString()} row${p.rows === 1 ? "" : "s"}, ${size(p.bytes)}`;
  return (
    <div className="export-control">
      {state.phase === "running" ? (
        <button type="button" onClick={onCancel}>
          Cancel export
        </button>
      ) : (
        <button type="button" onClick={onStart}>
          Export CSV
        </button>
      )}
      <span role="status" aria-live="polite" className="export-status">
        {state.phase === "running" && (
          <>
            <progress aria-label="Export progress" />
            Exporting… {counted(state.progress)}
          </>
        )}
        {state.phase === "done" && `Exported ${counted(state.progress)} to ${state.file}.`}
        {state.phase === "cancelled" && "Export cancelled."}
      </span>
      {state.phase === "failed" && (
        <span role="alert" className="error">
          Export failed: {state.error}
        </span>
      )}
    </div>
  );
}
