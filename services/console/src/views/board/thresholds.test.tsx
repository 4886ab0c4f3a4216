import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/react";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { BoardSchema, PanelKind, PanelSchema, SeriesSchema, ThresholdSchema, type Panel } from "../../gen/switchboard/supervision/v1/board_pb";
import { SignalLevel, SignalSchema, type Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { BoardView, type BoardViewProps } from "./BoardView";
import { judge, valueLevel } from "./levels";
import { thresholdLines } from "./thresholds";


const at = new Date("2026-11-23T10:00:00Z");

const threshold = (init: MessageInitShape<typeof ThresholdSchema>) => create(ThresholdSchema, { objective: "obj", ...init });
// salesSatisfaction is a satisfaction objective of 90%, warning below 80%, critical below 60%.
const salesSatisfaction = threshold({ objective: "sales-satisfaction", businessUnit: "sales", metric: "satisfaction", higherIsBetter: true, target: 0.9, warning: 0.8, critical: 0.6 });
// firstResponse is a first response objective of 30s, warning above 1m, critical above 2m.
const firstResponse = threshold({ objective: "first-response", metric: "firstResponseTime", target: 30, warning: 60, critical: 120 });

function series(value: number, legend: string, init: MessageInitShape<typeof SeriesSchema> = {}) {
  return create(SeriesSchema, { legend, samples: [{ time: timestampFromDate(at), value }], ...init });
}

function satisfaction(value: number, thresholds = [salesSatisfaction]): Panel {
  return create(PanelSchema, {
    id: "satisfaction-today", title: "Satisfaction today", kind: PanelKind.GAUGE, unit: "percentunit", min: 0, max: 1, width: 8, height: 6,
    series: [series(value, "satisfaction")], thresholds,
  });
}

function goals(rows: { name: string; value: number; warning?: number; critical?: number }[]): Panel {
  return create(PanelSchema, {
    id: "objectives", title: "Goal progress", kind: PanelKind.TABLE, unit: "percentunit", min: 0, max: 1, width: 12, height: 8,
    series: rows.map((r) =>
      series(r.value, r.name, {
        labels: { objective: r.name, business_unit: "sales" },
        thresholds: [threshold({ objective: r.name, higherIsBetter: true, target: 1, warning: r.warning, critical: r.critical })],
      }),
    ),
  });
}

function props(panels: Panel[], signals: Signal[] = []): BoardViewProps {
  return {
    units: ["sales"], unit: "", onUnit: vi.fn(), rangeSeconds: 3600, onRange: vi.fn(), refresh: "live", onRefresh: vi.fn(), onRefreshNow: vi.fn(),
    board: create(BoardSchema, { evaluatedAt: timestampFromDate(at), source: "embedded", panels, signals }),
    signals, updatedAt: at, loading: false, error: "", reconnecting: "",
    agentTable: { rows: [], caption: "Today", loading: false, error: "" },
    showHistory: false, onShowHistory: vi.fn(), history: { signals: [], loading: false, error: "" },
  };
}

const region = (name: string) => screen.getByRole("region", { name });
const gaugeClass = (name: string) => screen.getByRole("img", { name }).getAttribute("class") ?? "";

describe("judging a value against an objective's thresholds", () => {
  it("is green when the target is met, orange past warning, red past critical, where more is better", () => {
    expect(judge(0.95, salesSatisfaction)).toBe("ok");
    expect(judge(0.9, salesSatisfaction)).toBe("ok");
    expect(judge(0.85, salesSatisfaction)).toBeUndefined();
    expect(judge(0.8, salesSatisfaction)).toBeUndefined();
    expect(judge(0.79, salesSatisfaction)).toBe("warning");
    expect(judge(0.6, salesSatisfaction)).toBe("warning");
    expect(judge(0.59, salesSatisfaction)).toBe("critical");
  });

  it("reads thresholds upwards where less is better", () => {
    expect(judge(20, firstResponse)).toBe("ok");
    expect(judge(45, firstResponse)).toBeUndefined();
    expect(judge(61, firstResponse)).toBe("warning");
    expect(judge(121, firstResponse)).toBe("critical");
    expect(judge(NaN, firstResponse)).toBeUndefined();
  });

  it("takes the worst of several units' objectives, and green only when every target is met", () => {
    const support = threshold({ objective: "support-satisfaction", higherIsBetter: true, target: 0.7, warning: 0.6, critical: 0.5 });
    expect(valueLevel(0.75, [salesSatisfaction, support])).toBe("warning");
    expect(valueLevel(0.95, [salesSatisfaction, support])).toBe("ok");
    expect(valueLevel(0.85, [salesSatisfaction, support])).toBeUndefined();
    expect(valueLevel(0.85, [])).toBeUndefined();
  });
});

describe("the board coloured by the objectives' thresholds", () => {
  it.each([
    [0.95, "level-ok"],
    [0.75, "level-warning"],
    [0.5, "level-critical"],
  ])("colours a satisfaction of %s as %s, panel and gauge", (value, level) => {
    render(<BoardView {...props([satisfaction(value)])} />);
    expect(region("Satisfaction today").className).toContain(level);
    expect(gaugeClass(`satisfaction: ${value * 100}%`)).toContain(level);
  });

  it("leaves a value short of its target but not past warning neutral", () => {
    render(<BoardView {...props([satisfaction(0.85)])} />);
    expect(region("Satisfaction today").className).not.toMatch(/level-/);
    expect(gaugeClass("satisfaction: 85%")).not.toMatch(/level-/);
  });

  it("takes the worse of the value's level and the active signals'", () => {
    const critical = create(SignalSchema, { id: "1", objective: "sales-satisfaction", metric: "satisfaction", level: SignalLevel.CRITICAL });
    render(<BoardView {...props([satisfaction(0.95)], [critical])} />);
    expect(region("Satisfaction today").className).toContain("level-critical");
    expect(gaugeClass("satisfaction: 95%")).toContain("level-critical");
  });

  it("marks the target, warning and critical on the gauge's arc, and says them", () => {
    const { container } = render(<BoardView {...props([satisfaction(0.75)])} />);
    const marks = [...container.querySelectorAll(".gauge-mark")].map((m) => m.getAttribute("data-threshold"));
    expect(marks).toEqual(["target", "warning", "critical"]);
    expect(within(region("Satisfaction today")).getByRole("list", { name: "Objectives" }).textContent).toBe(
      "sales-satisfaction (sales): target ≥ 90%, warning below 80%, critical below 60%",
    );
  });

  it("colours a stat by its value where less is better", () => {
    const wait = create(PanelSchema, {
      id: "wait", title: "Wait", kind: PanelKind.STAT, unit: "s", width: 8, height: 4, thresholds: [firstResponse],
      series: [series(20, "now"), series(90, "p90"), series(150, "max")],
    });
    render(<BoardView {...props([wait])} />);
    const stats = within(region("Wait")).getAllByRole("listitem");
    expect(stats.slice(0, 3).map((s) => s.className)).toEqual(["stat level-ok", "stat level-warning", "stat level-critical"]);
    expect(region("Wait").className).toContain("level-critical");
  });

  it("colours each goal row by its attainment against its objective's thresholds", () => {
    const panel = goals([
      { name: "met", value: 1, warning: 0.8, critical: 0.5 },
      { name: "slipping", value: 0.7, warning: 0.8, critical: 0.5 },
      { name: "failing", value: 0.4, warning: 0.8, critical: 0.5 },
      { name: "short", value: 0.9, warning: 0.8, critical: 0.5 },
      { name: "time-share", value: 0.6 },
    ]);
    render(<BoardView {...props([panel])} />);
    const rows = within(region("Goal progress")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.className)).toEqual(["level-ok", "level-warning", "level-critical", "", ""]);
    expect(region("Goal progress").className).toContain("level-critical");
  });

  it("colours the goal progress panel green only when every goal is met", () => {
    const { rerender } = render(<BoardView {...props([goals([{ name: "met", value: 1, warning: 0.8 }, { name: "short", value: 0.9, warning: 0.8 }])])} />);
    expect(region("Goal progress").className).not.toMatch(/level-/);
    rerender(<BoardView {...props([goals([{ name: "met", value: 1, warning: 0.8 }, { name: "also", value: 1.2, warning: 0.8 }])])} />);
    expect(region("Goal progress").className).toContain("level-ok");
  });

  it("draws an objective's warning and critical on a time series as dashed flat lines", () => {
    expect(thresholdLines([firstResponse], 3)).toEqual([
      { label: "first-response warning", values: [60, 60, 60], color: "#ff9830", dash: [6, 4] },
      { label: "first-response critical", values: [120, 120, 120], color: "#e02f44", dash: [6, 4] },
    ]);
  });
});
