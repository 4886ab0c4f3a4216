// Streamed CSV exports: the pieces gathered into one Blob, with progress as they come.
export interface ExportProgress {
  rows: number;
  bytes: number;
}

// collectCsv reads a CSV export stream to its end. onProgress hears the rows (when the
// stream counts them) and bytes so far, at most every intervalMs and once at the end.
export async function collectCsv(
  stream: AsyncIterable<{ csv: Uint8Array; rows?: bigint }>,
  onProgress: (p: ExportProgress) => void,
  intervalMs = 100,
): Promise<Blob> {
  const pieces: Uint8Array<ArrayBuffer>[] = [];
  const progress: ExportProgress = { rows: 0, bytes: 0 };
  let told = 0;
  for await (const r of stream) {
    pieces.push(new Uint8Array(r.csv));
    progress.bytes += r.csv.byteLength;
    if (r.rows !== undefined) progress.rows = Number(r.rows);
    if (Date.now() - told >= intervalMs) {
      told = Date.now();
      onProgress({ ...progress });
    }
  }
  onProgress({ ...progress });
  return new Blob(pieces, { type: "text/csv;charset=utf-8" });
}

// download saves a Blob under a file name, as a link the browser follows.
export function download(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// stampedName is a file name with the local date and time: "chats-20261123-0942.csv".
export function stampedName(prefix: string, at = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${prefix}-${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}.csv`;
}

// size says a byte count for people: "980 B", "12.4 KB", "3.1 MB".
export function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
