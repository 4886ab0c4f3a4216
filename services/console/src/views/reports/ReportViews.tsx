// The reports as a user reads them: charts (bars for counts, lines for times) and the
// table of the numbers under them. Each takes the server's answer as it came.
import { useMemo } from "react";
import { TimeSeries, type Line } from "../../ui/TimeSeries";
import type {
  AgentStatisticsRow,
  GetAgentStatisticsResponse,
  GetDailyReportResponse,
  GetInteractionStatisticsResponse,
  GetMonthlyReportResponse,
  GetVisitorStatisticsResponse,
  InteractionStatisticsRow,
  ReportCounts,
  VisitorStatisticsRow,
} from "../../gen/switchboard/supervision/v1/reports_pb";
import { NumberTable, type Column } from "./NumberTable";
import { averageOrGap, daySeconds, formatCount, formatDuration, formatHour, hourAxisLabel, hourSeconds, monthSeconds } from "./format";

const n = (v: bigint | undefined) => Number(v ?? 0n);

// padded adds an empty period before the first and after the last, so that the bars at
// the ends are drawn whole rather than cut in half by the chart's edges.
function padded(times: number[], lines: Line[]): { times: number[]; lines: Line[] } {
  if (times.length === 0) return { times, lines };
  const step = times.length > 1 ? times[1] - times[0] : 86400;
  return {
    times: [times[0] - step, ...times, times[times.length - 1] + step],
    lines: lines.map((l) => ({ ...l, values: [null, ...l.values, null] })),
  };
}

function Chart(props: { title: string; times: number[]; lines: Line[]; bars?: boolean; unit?: string; xLabel?: (seconds: number) => string }) {
  const { title, bars, unit, xLabel } = props;
  const data = useMemo(() => (bars ? padded(props.times, props.lines) : props), [bars, props.times, props.lines]);
  return (
    <figure className="report-chart">
      <TimeSeries title={title} times={data.times} lines={data.lines} bars={bars} unit={unit} xLabel={xLabel} height={200} />
    </figure>
  );
}

function NoActivity(props: { when: boolean }) {
  return props.when ? <p className="empty report-empty">No activity in this range.</p> : null;
}

// Counts per period: the daily and the monthly report.
interface CountsRow {
  period: string;
  counts?: ReportCounts;
}

const countsHeaders: [keyof Omit<ReportCounts, "$typeName" | "$unknown">, string][] = [
  ["pageViews", "Page views"],
  ["visitors", "Visitors"],
  ["conversations", "Conversations"],
  ["messages", "Messages"],
  ["offlineMessages", "Offline messages"],
];

function CountsReport(props: { rows: CountsRow[]; total?: ReportCounts; periodHeader: string; toSeconds: (p: string) => number; per: string }) {
  const { rows, total, periodHeader, toSeconds, per } = props;
  const times = useMemo(() => rows.map((r) => toSeconds(r.period)), [rows, toSeconds]);
  const series = (key: (typeof countsHeaders)[number][0], label: string): Line => ({ label, values: rows.map((r) => n(r.counts?.[key])) });
  // Larger series first: bars drawn later stand in front.
  const traffic = useMemo(() => [series("pageViews", "Page views"), series("visitors", "Visitors")], [rows]);
  const talk = useMemo(
    () => [series("messages", "Messages"), series("conversations", "Conversations"), series("offlineMessages", "Offline messages")],
    [rows],
  );
  const columns: Column<CountsRow>[] = [
    { header: periodHeader, cell: (r) => r.period },
    ...countsHeaders.map(([key, header]) => ({
      header,
      cell: (r: CountsRow) => formatCount(n(r.counts?.[key])),
      total: formatCount(n(total?.[key])),
    })),
  ];
  const quiet = !total || countsHeaders.every(([key]) => n(total[key]) === 0);
  return (
    <>
      <NoActivity when={quiet} />
      <div className="report-charts">
        <Chart title={`Traffic per ${per}`} times={times} lines={traffic} bars />
        <Chart title={`Conversations and messages per ${per}`} times={times} lines={talk} bars />
      </div>
      <NumberTable caption={`Figures per ${per}`} columns={columns} rows={rows} rowKey={(r) => r.period} totals />
    </>
  );
}

export function DailyReportView(props: { report: GetDailyReportResponse }) {
  const rows = useMemo(() => props.report.rows.map((r) => ({ period: r.day, counts: r.counts })), [props.report]);
  return <CountsReport rows={rows} total={props.report.total} periodHeader="Day" toSeconds={daySeconds} per="day" />;
}

export function MonthlyReportView(props: { report: GetMonthlyReportResponse }) {
  const rows = useMemo(() => props.report.rows.map((r) => ({ period: r.month, counts: r.counts })), [props.report]);
  return <CountsReport rows={rows} total={props.report.total} periodHeader="Month" toSeconds={monthSeconds} per="month" />;
}

export function VisitorStatisticsView(props: { report: GetVisitorStatisticsResponse }) {
  const rows = props.report.rows;
  const times = useMemo(() => rows.map((r) => daySeconds(r.day)), [rows]);
  const visitors = useMemo(
    () => [
      { label: "Visitors", values: rows.map((r) => n(r.visitors)) },
      // In front of all visitors: the new ones; the rest of the bar is returning visitors.
      { label: "New visitors", values: rows.map((r) => n(r.newVisitors)) },
    ],
    [rows],
  );
  const activity = useMemo(
    () => [
      { label: "Page views", values: rows.map((r) => n(r.pageViews)) },
      { label: "Visits", values: rows.map((r) => n(r.visits)) },
      { label: "Conversations", values: rows.map((r) => n(r.conversations)) },
    ],
    [rows],
  );
  const sum = (f: (r: VisitorStatisticsRow) => bigint) => formatCount(rows.reduce((s, r) => s + f(r), 0n));
  // Distinct visitors of several days are not the sum of each day's: no total for them.
  const columns: Column<VisitorStatisticsRow>[] = [
    { header: "Day", cell: (r) => r.day },
    { header: "Visitors", cell: (r) => formatCount(r.visitors) },
    { header: "New visitors", cell: (r) => formatCount(r.newVisitors), total: sum((r) => r.newVisitors) },
    { header: "Returning visitors", cell: (r) => formatCount(r.returningVisitors) },
    { header: "Visits", cell: (r) => formatCount(r.visits), total: sum((r) => r.visits) },
    { header: "Page views", cell: (r) => formatCount(r.pageViews), total: sum((r) => r.pageViews) },
    { header: "Conversations", cell: (r) => formatCount(r.conversations), total: sum((r) => r.conversations) },
  ];
  const quiet = rows.every((r) => r.visitors === 0n && r.visits === 0n && r.pageViews === 0n && r.conversations === 0n);
  return (
    <>
      <NoActivity when={quiet} />
      <div className="report-charts">
        <Chart title="Visitors per day" times={times} lines={visitors} bars />
        <Chart title="Visits, page views and conversations per day" times={times} lines={activity} bars />
      </div>
      <NumberTable caption="Visitors per day" columns={columns} rows={rows} rowKey={(r) => r.day} totals />
    </>
  );
}

// Bar is a figure's share of the largest in its column, drawn beside the number.
function Bar(props: { value: number; max: number; children: React.ReactNode }) {
  const share = props.max > 0 ? Math.round((props.value / props.max) * 100) : 0;
  return (
    <span className="bar-cell">
      <span className="bar-track" aria-hidden="true">
        <span className="bar-fill" style={{ width: `${share}%` }} />
      </span>
      <span className="bar-value">{props.children}</span>
    </span>
  );
}

export function AgentStatisticsView(props: { report: GetAgentStatisticsResponse }) {
  const rows = props.report.rows;
  if (rows.length === 0) return <p className="empty">No agent had a conversation in this range.</p>;
  const most = (f: (r: AgentStatisticsRow) => number) => Math.max(0, ...rows.map(f));
  const maxConversations = most((r) => n(r.conversations));
  const maxMessages = most((r) => n(r.messages));
  const maxFirst = most((r) => r.averageFirstResponseSeconds);
  const maxResponse = most((r) => r.averageResponseSeconds);
  const maxHandling = most((r) => r.averageHandlingSeconds);
  const columns: Column<AgentStatisticsRow>[] = [
    {
      header: "Agent",
      cell: (r) => (
        <>
          {r.displayName || r.agent}
          {r.agent && r.displayName && <span className="muted agent-id"> {r.agent}</span>}
        </>
      ),
    },
    { header: "Conversations", cell: (r) => <Bar value={n(r.conversations)} max={maxConversations}>{formatCount(r.conversations)}</Bar> },
    { header: "Messages", cell: (r) => <Bar value={n(r.messages)} max={maxMessages}>{formatCount(r.messages)}</Bar> },
    {
      header: "Average first response",
      cell: (r) => <Bar value={r.averageFirstResponseSeconds} max={maxFirst}>{formatDuration(r.averageFirstResponseSeconds)}</Bar>,
    },
    {
      header: "Average response",
      cell: (r) => <Bar value={r.averageResponseSeconds} max={maxResponse}>{formatDuration(r.averageResponseSeconds)}</Bar>,
    },
    { header: "Unanswered", cell: (r) => formatCount(r.unansweredConversations) },
    {
      header: "Average handling",
      cell: (r) => <Bar value={r.averageHandlingSeconds} max={maxHandling}>{formatDuration(r.averageHandlingSeconds)}</Bar>,
    },
  ];
  return <NumberTable caption="Agents over the range" columns={columns} rows={rows} rowKey={(r) => r.agent || r.displayName} />;
}

function interactionColumns(first: Column<InteractionStatisticsRow>, rows: InteractionStatisticsRow[]): Column<InteractionStatisticsRow>[] {
  const sum = (f: (r: InteractionStatisticsRow) => bigint) => formatCount(rows.reduce((s, r) => s + f(r), 0n));
  return [
    first,
    { header: "Conversations", cell: (r) => formatCount(r.conversations), total: sum((r) => r.conversations) },
    { header: "Offline messages", cell: (r) => formatCount(r.offlineMessages), total: sum((r) => r.offlineMessages) },
    { header: "Average response", cell: (r) => formatDuration(r.averageResponseSeconds) },
  ];
}

function InteractionCharts(props: { rows: InteractionStatisticsRow[]; times: number[]; per: string; xLabel?: (seconds: number) => string }) {
  const { rows, times, per, xLabel } = props;
  const counts = useMemo(
    () => [
      { label: "Conversations", values: rows.map((r) => n(r.conversations)) },
      { label: "Offline messages", values: rows.map((r) => n(r.offlineMessages)) },
    ],
    [rows],
  );
  const waits = useMemo(() => [{ label: "Average response", values: rows.map((r) => averageOrGap(r.averageResponseSeconds)) }], [rows]);
  return (
    <div className="report-charts">
      <Chart title={`Conversations ${per}`} times={times} lines={counts} bars xLabel={xLabel} />
      <Chart title={`Average response time ${per} (seconds)`} times={times} lines={waits} unit="s" xLabel={xLabel} />
    </div>
  );
}

export function InteractionStatisticsView(props: { report: GetInteractionStatisticsResponse }) {
  const { byDay, byHour } = props.report;
  const dayTimes = useMemo(() => byDay.map((r) => daySeconds(r.day)), [byDay]);
  const hourTimes = useMemo(() => byHour.map((r) => hourSeconds(r.hour)), [byHour]);
  const quiet = byDay.every((r) => r.conversations === 0n && r.offlineMessages === 0n);
  return (
    <>
      <NoActivity when={quiet} />
      <section aria-labelledby="interactions-by-day">
        <h3 id="interactions-by-day">By day</h3>
        <InteractionCharts rows={byDay} times={dayTimes} per="per day" />
        <NumberTable caption="Interactions per day" columns={interactionColumns({ header: "Day", cell: (r) => r.day }, byDay)} rows={byDay} rowKey={(r) => r.day} totals />
      </section>
      <section aria-labelledby="interactions-by-hour">
        <h3 id="interactions-by-hour">By hour of the day</h3>
        <InteractionCharts rows={byHour} times={hourTimes} per="by hour of the day" xLabel={hourAxisLabel} />
        <NumberTable
          caption="Interactions by hour of the day, summed over the range"
          columns={interactionColumns({ header: "Hour", cell: (r) => formatHour(r.hour) }, byHour)}
          rows={byHour}
          rowKey={(r) => String(r.hour)}
          totals
        />
      </section>
    </>
  );
}
