import { describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgentStatus } from "../../gen/switchboard/chat/v1/chat_pb";
import {
  AgentTableRowSchema,
  BoardSchema,
  MoneySchema,
  PanelKind,
  PanelSchema,
  SeriesSchema,
  type Panel,
} from "../../gen/switchboard/supervision/v1/board_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { SignalLevel, SignalSchema, type Signal } from "../../gen/switchboard/supervision/v1/signal_pb";
import { BoardView, type BoardViewProps } from "./BoardView";
import { seriesLines } from "./panels";
import { withSignal } from "../Board";


const at = new Date("2026-11-23T10:00:00Z");
const injection = "<img src=x onerror=alert(1)>";

function series(value: number, legend: string, labels: Record<string, string> = {}) {
  return create(SeriesSchema, { legend, labels, samples: [{ time: timestampFromDate(at), value }] });
}

function panel(init: MessageInitShape<typeof PanelSchema> & { id: string; title: string; kind: PanelKind }): Panel {
  return create(PanelSchema, { unit: "short", x: 0, y: 0, width: 8, height: 4, ...init });
}

function signal(init: { id: string; metric: string; level: SignalLevel; objective?: string; agent?: string; summary?: string }): Signal {
  return create(SignalSchema, { objective: "obj", since: timestampFromDate(new Date(at.getTime() - 90_000)), ...init });
}

const panels = {
  visitors: panel({ id: "visitors", title: "Visitors", kind: PanelKind.STAT, series: [series(7, "in conversation"), series(2, "waiting")] }),
  signals: (critical: number, warning: number) =>
    panel({
      id: "signals",
      title: "Active signals",
      kind: PanelKind.STAT,
      series: [series(critical, "critical", { level: "critical" }), series(warning, "warning", { level: "warning" })],
    }),
  satisfaction: panel({ id: "satisfaction-today", title: "Satisfaction today", kind: PanelKind.GAUGE, unit: "percentunit", min: 0, max: 1, series: [series(0.75, "satisfaction")] }),
  firstResponse: panel({ id: "first-response", title: "First response time (90th percentile)", kind: PanelKind.TIME_SERIES, unit: "s", width: 24, height: 8, series: [series(42, "p90")] }),
  goals: panel({
    id: "objectives",
    title: "Goal progress",
    kind: PanelKind.TABLE,
    unit: "percentunit",
    min: 0,
    max: 1,
    series: [
      series(0.6, "fast-first-response", { objective: "fast-first-response", metric: "firstResponseTime", business_unit: "sales" }),
      series(1, "happy", { objective: "happy", metric: "satisfaction", business_unit: "" }),
      series(0.156, "sales-contacts", { objective: "sales-contacts", metric: "contactsPerHour", business_unit: "sales" }),
    ],
  }),
  agentsOnline: panel({ id: "agents-by-status", title: "Agents online", kind: PanelKind.STAT, series: [series(3, "available", { status: "available" })] }),
};

function props(over: Partial<BoardViewProps> = {}): BoardViewProps {
  const signals = over.signals ?? [];
  return {
    units: ["sales", "support"],
    unit: "",
    onUnit: vi.fn(),
    rangeSeconds: 3600,
    onRange: vi.fn(),
    refresh: "live",
    onRefresh: vi.fn(),
    onRefreshNow: vi.fn(),
    board: create(BoardSchema, {
      evaluatedAt: timestampFromDate(at),
      source: "embedded",
      signals,
      panels: [panels.agentsOnline, panels.visitors, panels.satisfaction, panels.goals, panels.signals(0, 0), panels.firstResponse],
    }),
    signals,
    updatedAt: at,
    loading: false,
    error: "",
    reconnecting: "",
    agentTable: { rows: [], caption: "Today 2026-11-23 (Europe/Paris)", loading: false, error: "" },
    showHistory: false,
    onShowHistory: vi.fn(),
    history: { signals: [], loading: false, error: "" },
    ...over,
  };
}

const region = (name: string) => screen.getByRole("region", { name });

describe("board panels", () => {
  it("shows each panel as a region named by its title, with its values and legends", () => {
    render(<BoardView {...props()} />);
    const visitors = region("Visitors");
    expect(within(visitors).getByText("7")).toBeTruthy();
    expect(within(visitors).getByText("in conversation")).toBeTruthy();
    expect(within(visitors).getByText("2")).toBeTruthy();
    expect(region("First response time (90th percentile)")).toBeTruthy();
    expect(screen.getByRole("img", { name: "satisfaction: 75%" })).toBeTruthy();
  });

  it("places panels on the 24-column grid", () => {
    render(<BoardView {...props()} />);
    const style = region("First response time (90th percentile)").style;
    expect(style.getPropertyValue("--w")).toBe("24");
    expect(style.getPropertyValue("--h")).toBe("8");
  });

  it("colours panels green while no objective they show is missed", () => {
    render(<BoardView {...props()} />);
    expect(region("First response time (90th percentile)").className).toContain("level-ok");
    expect(region("Satisfaction today").className).toContain("level-ok");
    expect(screen.getByRole("img", { name: "satisfaction: 75%" }).getAttribute("class")).toContain("level-ok");
  });

  it("colours a panel by the worst active signal on the metric it shows", () => {
    const signals = [
      signal({ id: "1", metric: "firstResponseTime", level: SignalLevel.WARNING }),
      signal({ id: "2", metric: "firstResponseTime", level: SignalLevel.CRITICAL }),
      signal({ id: "3", metric: "satisfaction", level: SignalLevel.WARNING }),
    ];
    render(<BoardView {...props({ signals })} />);
    expect(region("First response time (90th percentile)").className).toContain("level-critical");
    expect(region("Visitors").className).toContain("level-critical");
    expect(region("Satisfaction today").className).toContain("level-warning");
    expect(screen.getByRole("img", { name: "satisfaction: 75%" }).getAttribute("class")).toContain("level-warning");
  });

  it("leaves panels that show no objective uncoloured", () => {
    render(<BoardView {...props({ signals: [signal({ id: "1", metric: "firstResponseTime", level: SignalLevel.CRITICAL })] })} />);
    expect(region("Agents online").className).not.toMatch(/level-/);
  });

  it("colours the signal counts by their level while above zero", () => {
    const p = props();
    p.board!.panels[4] = panels.signals(2, 0);
    render(<BoardView {...p} />);
    const counts = within(region("Active signals")).getAllByRole("listitem");
    expect(counts[0].textContent).toBe("2critical");
    expect(counts[0].className).toContain("level-critical");
    expect(counts[1].className).toContain("level-ok");
  });

  it("colours a goal's row by its objective's signals, green when met, and draws its attainment", () => {
    const signals = [signal({ id: "1", objective: "fast-first-response", metric: "firstResponseTime", level: SignalLevel.WARNING })];
    render(<BoardView {...props({ signals })} />);
    const rows = within(region("Goal progress")).getAllByRole("row");
    expect(within(rows[0]).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Business unit", "Metric", "Objective", "Value"]);
    expect(rows[1].className).toBe("level-warning");
    expect(within(rows[1]).getByText("60%")).toBeTruthy();
    expect(rows[2].className).toBe("level-ok");
    expect(rows[3].className).toBe("");
  });

  it("draws the gauge's arc as the value's share between min and max", () => {
    const { container } = render(<BoardView {...props()} />);
    expect(container.querySelector(".gauge-fill")?.getAttribute("data-share")).toBe("0.750");
  });

  it("shows a panel's error and a panel without data", () => {
    const p = props();
    p.board!.panels = [
      panel({ id: "visitors", title: "Visitors", kind: PanelKind.STAT, error: "bad query: parse error" }),
      panel({ id: "ratings-today", title: "Ratings today", kind: PanelKind.STAT }),
    ];
    render(<BoardView {...p} />);
    expect(within(region("Visitors")).getByText("bad query: parse error")).toBeTruthy();
    expect(within(region("Ratings today")).getByText("No data")).toBeTruthy();
  });

  it("spreads time series over the whole time range, gaps where there is no sample", () => {
    const t = Math.round(at.getTime() / 1000);
    const s = create(SeriesSchema, { legend: "open", samples: [{ time: timestampFromDate(at), value: 3 }] });
    expect(seriesLines([s], { from: t - 900, to: t })).toEqual({ times: [t - 900, t], lines: [{ label: "open", values: [null, 3] }] });
  });

  it("writes values in the panel's unit", () => {
    const p = props();
    p.board!.panels = [panel({ id: "wait", title: "Wait", kind: PanelKind.STAT, unit: "s", series: [series(125, "p90")] })];
    render(<BoardView {...p} />);
    expect(within(region("Wait")).getByText("2m 05s")).toBeTruthy();
  });
});

describe("signals list", () => {
  it("lists active signals worst first, with what users typed as text", () => {
    const signals = [
      signal({ id: "1", metric: "responseTime", level: SignalLevel.WARNING, summary: "response 3m (warning above 2m)", agent: "bob" }),
      signal({ id: "2", metric: "firstResponseTime", level: SignalLevel.CRITICAL, summary: injection, agent: injection }),
    ];
    const { container } = render(<BoardView {...props({ signals })} />);
    const list = within(region("Active signals")).getByRole("list", { name: "Signals active now" });
    const items = within(list).getAllByRole("listitem");
    expect(items[0].textContent).toContain(injection);
    expect(items[0].className).toBe("level-critical");
    expect(items[1].textContent).toContain("response 3m (warning above 2m)");
    expect(container.querySelector("img")).toBeNull();
  });

  it("says when no objective is missed", () => {
    render(<BoardView {...props()} />);
    expect(within(region("Active signals")).getByText("No objective is missed now.")).toBeTruthy();
  });

  it("switches to the signals raised over the time range, with when each cleared", () => {
    const p = props();
    render(<BoardView {...p} />);
    fireEvent.click(screen.getByRole("button", { name: "In the time range" }));
    expect(p.onShowHistory).toHaveBeenCalledWith(true);
    cleanup();
    const cleared = create(SignalSchema, { id: "1", level: SignalLevel.WARNING, summary: "response 3m", since: timestampFromDate(at), clearedAt: timestampFromDate(at) });
    const active = create(SignalSchema, { id: "2", level: SignalLevel.CRITICAL, summary: injection, since: timestampFromDate(at) });
    render(<BoardView {...props({ showHistory: true, history: { signals: [cleared, active], loading: false, error: "" } })} />);
    expect(screen.getByRole("button", { name: "In the time range" }).getAttribute("aria-pressed")).toBe("true");
    const items = within(screen.getByRole("list", { name: "Signals in the time range" })).getAllByRole("listitem");
    expect(items[0].textContent).toContain("cleared");
    expect(items[1].textContent).toContain(injection);
    expect(items[1].textContent).toContain("still active");
  });

  it("shows why the history could not be listed", () => {
    render(<BoardView {...props({ showHistory: true, history: { signals: [], loading: false, error: "from: after to" } })} />);
    expect(within(region("Active signals")).getByRole("alert").textContent).toBe("from: after to");
  });

  it("adds a raised signal and drops a cleared one", () => {
    const raised = signal({ id: "1", metric: "responseTime", level: SignalLevel.WARNING });
    const other = signal({ id: "2", metric: "responseTime", level: SignalLevel.WARNING });
    const active = withSignal([other], raised);
    expect(active.map((s) => s.id)).toEqual(["2", "1"]);
    const cleared = create(SignalSchema, { ...raised, clearedAt: timestampFromDate(at) });
    expect(withSignal(active, cleared).map((s) => s.id)).toEqual(["2"]);
  });
});

describe("board controls", () => {
  it("offers the time ranges and reports the one chosen in seconds", () => {
    const p = props();
    render(<BoardView {...p} />);
    const range = screen.getByLabelText("Time range") as HTMLSelectElement;
    expect([...range.options].map((o) => o.text)).toEqual(["Last 15 minutes", "Last 1 hour", "Last 6 hours", "Last 24 hours"]);
    fireEvent.change(range, { target: { value: "900" } });
    expect(p.onRange).toHaveBeenCalledWith(900);
  });

  it("offers live updates or polling and reports the choice", () => {
    const p = props();
    render(<BoardView {...p} />);
    const refresh = screen.getByLabelText("Refresh") as HTMLSelectElement;
    expect([...refresh.options].map((o) => o.text)).toEqual(["Live", "5s", "30s", "1m", "Off"]);
    fireEvent.change(refresh, { target: { value: "30" } });
    expect(p.onRefresh).toHaveBeenCalledWith("30");
    expect(screen.queryByRole("button", { name: "Refresh now" })).toBeNull();
  });

  it("fetches again on demand when not live", () => {
    const p = props({ refresh: "off" });
    render(<BoardView {...p} />);
    fireEvent.click(screen.getByRole("button", { name: "Refresh now" }));
    expect(p.onRefreshNow).toHaveBeenCalled();
  });

  it("offers every unit of the user and all of them", () => {
    const p = props();
    render(<BoardView {...p} />);
    const unit = screen.getByLabelText("Business unit") as HTMLSelectElement;
    expect([...unit.options].map((o) => o.text)).toEqual(["All units", "sales", "support"]);
    fireEvent.change(unit, { target: { value: "support" } });
    expect(p.onUnit).toHaveBeenCalledWith("support");
  });

  it("shows when the board was last updated, and a note while the stream reconnects", () => {
    const { rerender } = render(<BoardView {...props()} />);
    const status = screen.getByRole("status");
    expect(status.textContent).toContain("Last updated");
    expect(status.querySelector("time")?.getAttribute("datetime")).toBe(at.toISOString());
    rerender(<BoardView {...props({ reconnecting: "Switchboard cannot be reached; retrying may help." })} />);
    expect(screen.getByRole("status").textContent).toContain("reconnecting");
  });

  it("shows the server's error and the loading state", () => {
    render(<BoardView {...props({ board: undefined, loading: true })} />);
    expect(screen.getByText("Loading the board…")).toBeTruthy();
    cleanup();
    render(<BoardView {...props({ board: undefined, error: "you supervise no business unit" })} />);
    expect(screen.getByRole("alert").textContent).toBe("you supervise no business unit");
  });
});

describe("agents table", () => {
  const row = (init: Record<string, unknown>) =>
    create(AgentTableRowSchema, {
      agent: "alice",
      displayName: "Alice",
      status: AgentStatus.AVAILABLE,
      presenceSeconds: 5400n,
      contacts: 12,
      averageHandlingSeconds: 310,
      contactsPerHour: 8,
      turnover: [create(MoneySchema, { currency: "EUR", amount: "129.90" })],
      conversionRate: 0.25,
      transactions: 3,
      satisfaction: 4.5,
      ratings: 6,
      inProgressUnit: 2,
      inProgressAll: 3,
      ...init,
    });

  it("shows each agent's figures of the day", () => {
    render(<BoardView {...props({ unit: "sales", agentTable: { rows: [row({})], caption: "", loading: false, error: "" } })} />);
    const table = screen.getByRole("table", { name: "Agents today" });
    const cells = within(within(table).getAllByRole("row")[1]).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual(["Available", "1h 30m", "12", "5m 10s", "8", expect.stringContaining("129.90"), "25% (3)", "4.5/5 (6)", "2 (3 in all units)", ""]);
  });

  it("marks an agent under a signal, from the live signals", () => {
    const signals = [signal({ id: "9", metric: "firstResponseTime", level: SignalLevel.CRITICAL, agent: "alice" })];
    render(<BoardView {...props({ signals, agentTable: { rows: [row({}), row({ agent: "bob", displayName: "Bob" })], caption: "", loading: false, error: "" } })} />);
    const rows = within(screen.getByRole("table", { name: "Agents today" })).getAllByRole("row");
    expect(rows[1].className).toContain("level-critical");
    expect(within(rows[1]).getByText("1 critical")).toBeTruthy();
    expect(rows[2].className).not.toMatch(/level-/);
  });

  it("renders an agent's name as text", () => {
    const { container } = render(<BoardView {...props({ agentTable: { rows: [row({ displayName: injection })], caption: "", loading: false, error: "" } })} />);
    expect(screen.getByRole("rowheader").textContent).toBe(injection);
    expect(container.querySelector("img")).toBeNull();
  });

  it("says when a unit has no agent, and shows the server's error", () => {
    render(<BoardView {...props()} />);
    expect(within(region("Agents today")).getByText("No agent in this unit.")).toBeTruthy();
    cleanup();
    render(<BoardView {...props({ agentTable: { rows: [], caption: "", loading: false, error: "business_unit: required" } })} />);
    expect(within(region("Agents today")).getByRole("alert").textContent).toBe("business_unit: required");
  });
});
