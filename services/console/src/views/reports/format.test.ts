import { describe, expect, it } from "vitest";
import { addDays, formatDuration, hourAxisLabel, hourSeconds, todayIn } from "./format";

describe("report formats", () => {
  it("reads durations as people do", () => {
    expect(formatDuration(0)).toBe("–");
    expect(formatDuration(9.6)).toBe("10 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(7260)).toBe("2 h 01 min");
  });
  it("counts days across months and years", () => {
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(addDays("2025-12-31", 1)).toBe("2026-01-01");
  });
  it("knows the day in a time zone", () => {
    const now = new Date("2026-01-14T23:30:00Z");
    expect(todayIn("UTC", now)).toBe("2026-01-14");
    expect(todayIn("Europe/Paris", now)).toBe("2026-01-15");
    expect(todayIn("America/New_York", now)).toBe("2026-01-14");
  });
});

describe("hours of the day on a chart", () => {
  it("names whole hours and leaves half hours blank", () => {
    expect(hourAxisLabel(hourSeconds(9))).toBe("09:00");
    expect(hourAxisLabel(hourSeconds(23))).toBe("23:00");
    expect(hourAxisLabel(hourSeconds(9) + 1800)).toBe("");
  });
});
