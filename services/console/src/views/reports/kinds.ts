// The five reports the console offers, what each lets a user filter, and what it exports.
import { ReportKind } from "../../gen/switchboard/supervision/v1/reports_pb";

export type ReportId = "daily" | "monthly" | "visitors" | "agents" | "interactions";

export interface ReportDef {
  id: ReportId;
  label: string;
  // agentFilter is false where an agent would filter one column only and mislead.
  agentFilter: boolean;
  // scope tells what the unit and agent filters do to this report's figures.
  scope: string;
  // exports are the CSV files of the report; the first is the default.
  exports: { kind: ReportKind; label: string }[];
}

export const reports: ReportDef[] = [
  {
    id: "daily",
    label: "Daily report",
    agentFilter: true,
    scope: "Page views count the whole tenant (pages belong to no unit); unit and agent filter conversations and messages.",
    exports: [{ kind: ReportKind.DAILY, label: "Daily" }],
  },
  {
    id: "monthly",
    label: "Monthly report",
    agentFilter: true,
    scope: "The range is widened to whole months. Page views count the whole tenant; unit and agent filter conversations and messages.",
    exports: [{ kind: ReportKind.MONTHLY, label: "Monthly" }],
  },
  {
    id: "visitors",
    label: "Visitor statistics",
    agentFilter: false,
    scope: "Visitors, visits and page views count the whole tenant; the unit filters the conversations column.",
    exports: [{ kind: ReportKind.VISITORS, label: "Visitors" }],
  },
  {
    id: "agents",
    label: "Agent statistics",
    agentFilter: true,
    scope: "One row per agent with activity in the range; times are averages.",
    exports: [{ kind: ReportKind.AGENTS, label: "Agents" }],
  },
  {
    id: "interactions",
    label: "Interaction statistics",
    agentFilter: true,
    scope: "Conversations, offline messages and the average wait for a reply, by day and by hour of the day.",
    exports: [
      { kind: ReportKind.INTERACTIONS_BY_DAY, label: "By day" },
      { kind: ReportKind.INTERACTIONS_BY_HOUR, label: "By hour" },
    ],
  },
];

export function reportById(id: string | undefined): ReportDef {
  return reports.find((r) => r.id === id) ?? reports[0];
}
