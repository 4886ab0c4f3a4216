import { afterEach, describe, expect, it, vi } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { keepStreaming, retryDelay } from "./retry";

afterEach(() => vi.useRealTimers());

describe("keeping a stream open", () => {
  it("waits 1 s, 2 s, 4 s, 8 s, then 10 s between tries", () => {
    expect([0, 1, 2, 3, 4, 5].map(retryDelay)).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it("opens the stream again after it drops, says why, and starts the delays over after a message", async () => {
    vi.useFakeTimers();
    const abort = new AbortController();
    const drops: [string, boolean][] = [];
    let opens = 0;
    const done = keepStreaming(
      abort.signal,
      async (alive) => {
        opens++;
        if (opens === 3) alive();
        throw new ConnectError("connection lost", Code.Unavailable);
      },
      (err, retrying) => drops.push([(err as ConnectError).rawMessage, retrying]),
    );
    // Tries at 0 s, 1 s and 3 s (1 s then 2 s apart); the third got a message, so the
    // fourth comes 1 s later again, at 4 s, and the fifth not before 6 s.
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 1000 + 1500);
    expect(opens).toBe(4);
    expect(drops.length).toBe(4);
    expect(drops.every(([text, retrying]) => text === "connection lost" && retrying)).toBe(true);
    abort.abort();
    await done;
  });

  it("gives up on a refusal that trying again cannot change", async () => {
    const onDrop = vi.fn();
    let opens = 0;
    await keepStreaming(
      new AbortController().signal,
      async () => {
        opens++;
        throw new ConnectError("you hold SuperviseOpenChats on no business unit", Code.PermissionDenied);
      },
      onDrop,
    );
    expect(opens).toBe(1);
    expect(onDrop).toHaveBeenCalledWith(expect.any(ConnectError), false);
  });

  it("stops when the page aborts", async () => {
    const abort = new AbortController();
    const onDrop = vi.fn();
    const done = keepStreaming(
      abort.signal,
      async () => {
        abort.abort();
        throw new ConnectError("canceled", Code.Canceled);
      },
      onDrop,
    );
    await done;
    expect(onDrop).not.toHaveBeenCalled();
  });
});
