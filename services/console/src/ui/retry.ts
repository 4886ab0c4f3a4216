// Streams end when the network drops or a server restarts; the views keep them open by
// opening them again after a growing delay (1 s, 2 s, 4 s, 8 s, then every 10 s), saying so
// meanwhile.
import { Code, ConnectError } from "@connectrpc/connect";
import { isAbort } from "../transport";

// Refusals that trying again cannot change: the stream is not opened again after them.
const final = [Code.PermissionDenied, Code.Unauthenticated, Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition];

export function isFinal(err: unknown): boolean {
  return err instanceof ConnectError && final.includes(err.code);
}

export function retryDelay(attempt: number): number {
  return Math.min(1000 * 2 ** attempt, 10_000);
}

// keepStreaming runs open until signal aborts, again after each failure or end, but not
// after a final refusal, nor when open says the stream is "done" (what it follows is over).
// open calls alive() on each message it receives, which starts the delays over; onDrop
// hears why a stream ended and whether it is tried again.
export async function keepStreaming(
  signal: AbortSignal,
  open: (alive: () => void) => Promise<void | "done">,
  onDrop: (err: unknown, retrying: boolean) => void,
): Promise<void> {
  let attempt = 0;
  while (!signal.aborted) {
    let ended: unknown = new Error("The live stream ended.");
    try {
      if ((await open(() => (attempt = 0))) === "done") return;
    } catch (err) {
      ended = err;
    }
    if (signal.aborted || isAbort(ended)) return;
    if (isFinal(ended)) {
      onDrop(ended, false);
      return;
    }
    onDrop(ended, true);
    await sleep(retryDelay(attempt++), signal);
  }
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
