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
    const drops: [string, number][] = [];
    let opens = 0;
    const done = keepStreaming(
      abort.signal,
      async (alive) => {
        opens++;
        if (opens === 3) alive();
        throw new ConnectError("connection lost", Code.Unavailable);
      },
      (err, ms) => drops.push([(err as ConnectError).rawMessage, ms]),
    );
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 1000);
    expect(opens).toBe(4);
    expect(drops).toEqual([
      ["connection lost", 1000],
      ["connection lost", 2000],
      ["connection lost", 1000],
      ["connection lost", 2000],
    ]);
    abort.abort();
    await done;
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
