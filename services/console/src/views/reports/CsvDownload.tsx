// CsvDownload streams a CSV export into a Blob and hands it to the browser as a download,
// showing what has arrived so far and letting the user cancel.
import { useEffect, useRef, useState } from "react";
import { errorText, isAbort } from "../../api";
import { formatBytes, formatCount } from "./format";

// A piece of the file as the export streams send it.
export interface CsvPiece {
  csv: Uint8Array;
}

type Progress =
  | { state: "idle" }
  | { state: "running" | "done"; bytes: number; rows: number }
  | { state: "cancelled" }
  | { state: "failed"; error: string };

// saveBlob offers a Blob to the user as a file.
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has read the URL once the click's task is over.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

const newline = 0x0a;

function countLines(piece: Uint8Array): number {
  let lines = 0;
  for (const b of piece) if (b === newline) lines++;
  return lines;
}

export function CsvDownload(props: {
  open: (signal: AbortSignal) => AsyncIterable<CsvPiece>;
  filename: string;
  save?: (blob: Blob, filename: string) => void;
}) {
  const { open, filename, save = saveBlob } = props;
  const [progress, setProgress] = useState<Progress>({ state: "idle" });
  const running = useRef<AbortController | null>(null);

  useEffect(() => () => running.current?.abort(), []);

  const start = async () => {
    const ctl = new AbortController();
    running.current = ctl;
    const pieces: Uint8Array<ArrayBuffer>[] = [];
    let bytes = 0;
    let lines = 0;
    setProgress({ state: "running", bytes, rows: 0 });
    try {
      for await (const piece of open(ctl.signal)) {
        pieces.push(new Uint8Array(piece.csv));
        bytes += piece.csv.byteLength;
        lines += countLines(piece.csv);
        // The first line is the header.
        setProgress({ state: "running", bytes, rows: Math.max(lines - 1, 0) });
      }
      if (ctl.signal.aborted) return;
      save(new Blob(pieces, { type: "text/csv" }), filename);
      setProgress({ state: "done", bytes, rows: Math.max(lines - 1, 0) });
    } catch (err) {
      if (ctl.signal.aborted || isAbort(err)) setProgress({ state: "cancelled" });
      else setProgress({ state: "failed", error: errorText(err) });
    } finally {
      if (running.current === ctl) running.current = null;
    }
  };

  const cancel = () => {
    running.current?.abort();
    setProgress({ state: "cancelled" });
  };

  const busy = progress.state === "running";
  return (
    <div className="csv-download">
      <button type="button" className="primary" onClick={() => void start()} disabled={busy}>
        Download CSV
      </button>
      {busy && (
        <button type="button" onClick={cancel}>
          Cancel download
        </button>
      )}
      <span role="status" className="muted">
        {progress.state === "running" && `Receiving… ${formatCount(progress.rows)} rows, ${formatBytes(progress.bytes)}`}
        {progress.state === "done" && `Downloaded ${filename}: ${formatCount(progress.rows)} rows, ${formatBytes(progress.bytes)}`}
        {progress.state === "cancelled" && "Download cancelled."}
      </span>
      {progress.state === "failed" && (
        <span role="alert" className="error">
          {progress.error}
        </span>
      )}
    </div>
  );
}
