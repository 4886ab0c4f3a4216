import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { throttleDrafts } from "./compose";

describe("throttleDrafts", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends at most once per interval, and the latest text last", () => {
    const sent: string[] = [];
    const d = throttleDrafts((t) => sent.push(t), 300);
    d.update("H");
    d.update("He");
    d.update("Hel");
    expect(sent).toEqual(["H"]);
    vi.advanceTimersByTime(299);
    expect(sent).toEqual(["H"]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["H", "Hel"]);
  });
  it("says the writer stopped when the box is emptied, and nothing after the message went out", () => {
    const sent: string[] = [];
    const d = throttleDrafts((t) => sent.push(t), 300);
    d.update("Hi");
    vi.advanceTimersByTime(400);
    d.update("");
    expect(sent).toEqual(["Hi", ""]);
    vi.advanceTimersByTime(400);
    d.update("Bye");
    d.update("Bye!");
    d.sent();
    vi.advanceTimersByTime(400);
    expect(sent).toEqual(["Hi", "", "Bye"]);
  });
});
