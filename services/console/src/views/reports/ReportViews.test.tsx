import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import {
  AgentStatisticsRowSchema,
  DailyReportRowSchema,
  GetAgentStatisticsResponseSchema,
  GetDailyReportResponseSchema,
  GetInteractionStatisticsResponseSchema,
  GetVisitorStatisticsResponseSchema,
  InteractionStatisticsRowSchema,
  ReportCountsSchema,
  VisitorStatisticsRowSchema,
} from "../../gen/switchboard/supervision/v1/reports_pb";
import { AgentStatisticsView, DailyReportView, InteractionStatisticsView, VisitorStatisticsView } from "./ReportViews";


const counts = (pageViews: number, visitors: number, conversations: number, messages: number, offlineMessages: number) =>
  create(ReportCountsSchema, {
    pageViews: BigInt(pageViews),
    visitors: BigInt(visitors),
    conversations: BigInt(conversations),
    messages: BigInt(messages),
    offlineMessages: BigInt(offlineMessages),
  });

const cells = (row: HTMLElement) => [...row.querySelectorAll("th, td")].map((c) => c.textContent);

describe("daily report", () => {
  const report = create(GetDailyReportResponseSchema, {
    rows: [
      create(DailyReportRowSchema, { day: "2026-01-14", counts: counts(1200, 300, 40, 512, 3) }),
      create(DailyReportRowSchema, { day: "2026-01-15", counts: counts(0, 0, 0, 0, 0) }),
    ],
    total: counts(1200, 290, 40, 512, 3),
  });

  it("shows each day's figures and the server's totals (distinct visitors, not a sum)", () => {
    render(<DailyReportView report={report} />);
    const table = screen.getByRole("table", { name: "Figures per day" });
    const rows = within(table).getAllByRole("row");
    expect(cells(rows[0])).toEqual(["Day", "Page views", "Visitors", "Conversations", "Messages", "Offline messages"]);
    expect(cells(rows[1])).toEqual(["2026-01-14", (1200).toLocaleString(), "300", "40", "512", "3"]);
    expect(cells(rows[2])).toEqual(["2026-01-15", "0", "0", "0", "0", "0"]);
    expect(cells(rows[3])).toEqual(["Total", (1200).toLocaleString(), "290", "40", "512", "3"]);
  });

  it("draws the counts as charts named for what they show", () => {
    render(<DailyReportView report={report} />);
    expect(screen.getByRole("img", { name: "Traffic per day" })).toBeTruthy();
    expect(screen.getByRole("img", { name: "Conversations and messages per day" })).toBeTruthy();
    expect(screen.queryByText("No activity in this range.")).toBeNull();
  });

  it("says so when nothing happened in the range", () => {
    const quiet = create(GetDailyReportResponseSchema, { rows: [create(DailyReportRowSchema, { day: "2026-01-15", counts: counts(0, 0, 0, 0, 0) })], total: counts(0, 0, 0, 0, 0) });
    render(<DailyReportView report={quiet} />);
    expect(screen.getByText("No activity in this range.")).toBeTruthy();
  });
});

describe("visitor statistics", () => {
  it("totals visits and new visitors but not distinct visitors", () => {
    const report = create(GetVisitorStatisticsResponseSchema, {
      rows: [
        create(VisitorStatisticsRowSchema, { day: "2026-01-14", visitors: 10n, newVisitors: 4n, returningVisitors: 6n, visits: 12n, pageViews: 50n, conversations: 2n }),
        create(VisitorStatisticsRowSchema, { day: "2026-01-15", visitors: 5n, newVisitors: 1n, returningVisitors: 4n, visits: 5n, pageViews: 9n, conversations: 1n }),
      ],
    });
    render(<VisitorStatisticsView report={report} />);
    const rows = within(screen.getByRole("table", { name: "Visitors per day" })).getAllByRole("row");
    expect(cells(rows[1])).toEqual(["2026-01-14", "10", "4", "6", "12", "50", "2"]);
    expect(cells(rows[3])).toEqual(["Total", "–", "5", "–", "17", "59", "3"]);
  });
});

describe("agent statistics", () => {
  it("shows each agent's figures with times people read", () => {
    const report = create(GetAgentStatisticsResponseSchema, {
      rows: [
        create(AgentStatisticsRowSchema, {
          agent: "alice",
          displayName: "Alice Martin",
          conversations: 12n,
          messages: 80n,
          averageFirstResponseSeconds: 65,
          averageResponseSeconds: 42.4,
          unansweredConversations: 1n,
          averageHandlingSeconds: 3720,
        }),
        create(AgentStatisticsRowSchema, { displayName: "not assigned", conversations: 2n, unansweredConversations: 2n }),
      ],
    });
    render(<AgentStatisticsView report={report} />);
    const rows = within(screen.getByRole("table", { name: "Agents over the range" })).getAllByRole("row");
    expect(cells(rows[1])).toEqual(["Alice Martin alice", "12", "80", "1 min 05 s", "42 s", "1", "1 h 02 min"]);
    expect(cells(rows[2])).toEqual(["not assigned", "2", "0", "–", "–", "2", "–"]);
  });

  it("renders an agent's name as text, never as HTML", () => {
    const evil = "<img src=x onerror=alert(1)>";
    const report = create(GetAgentStatisticsResponseSchema, { rows: [create(AgentStatisticsRowSchema, { agent: "mallory", displayName: evil, conversations: 1n })] });
    const { container } = render(<AgentStatisticsView report={report} />);
    expect(screen.getByText(evil)).toBeTruthy();
    expect(container.querySelector("img")).toBeNull();
  });

  it("says so when no agent was busy", () => {
    render(<AgentStatisticsView report={create(GetAgentStatisticsResponseSchema, {})} />);
    expect(screen.getByText("No agent had a conversation in this range.")).toBeTruthy();
  });
});

describe("interaction statistics", () => {
  it("shows the range by day and by hour of the day", () => {
    const byHour = Array.from({ length: 24 }, (_, hour) =>
      create(InteractionStatisticsRowSchema, { hour, conversations: hour === 9 ? 7n : 0n, averageResponseSeconds: hour === 9 ? 30 : 0 }),
    );
    const report = create(GetInteractionStatisticsResponseSchema, {
      byDay: [create(InteractionStatisticsRowSchema, { day: "2026-01-14", conversations: 7n, offlineMessages: 2n, averageResponseSeconds: 30 })],
      byHour,
    });
    render(<InteractionStatisticsView report={report} />);
    const days = within(screen.getByRole("table", { name: "Interactions per day" })).getAllByRole("row");
    expect(cells(days[1])).toEqual(["2026-01-14", "7", "2", "30 s"]);
    const hours = within(screen.getByRole("table", { name: /by hour of the day/ })).getAllByRole("row");
    expect(hours).toHaveLength(1 + 24 + 1);
    expect(cells(hours[10])).toEqual(["09:00", "7", "0", "30 s"]);
    expect(cells(hours[25])).toEqual(["Total", "7", "0", "–"]);
    expect(screen.getByRole("img", { name: "Average response time by hour of the day (seconds)" })).toBeTruthy();
  });
});
