// Reports: the five reports over a range of days (daily, monthly, visitors, agents,
// interactions), as charts and tables, each downloadable as CSV. This container fetches;
// the reports/ components draw.
import { useEffect, useMemo, useState } from "react";
import { create } from "@bufbuild/protobuf";
import { errorText, isAbort, type Clients } from "../api";
import { unitsWith, useSession } from "../session";
import {
  ExportReportRequestSchema,
  ReportRangeSchema,
  type GetAgentStatisticsResponse,
  type GetDailyReportResponse,
  type GetInteractionStatisticsResponse,
  type GetMonthlyReportResponse,
  type GetVisitorStatisticsResponse,
  type ReportKind,
  type ReportRange,
} from "../gen/switchboard/supervision/v1/reports_pb";
import { reportById, reports, type ReportDef, type ReportId } from "./reports/kinds";
import { ReportTabs, panelId, tabId } from "./reports/ReportTabs";
import { ReportControls, type AgentChoice, type ReportQuery } from "./reports/ReportControls";
import { AgentStatisticsView, DailyReportView, InteractionStatisticsView, MonthlyReportView, VisitorStatisticsView } from "./reports/ReportViews";
import { CsvDownload } from "./reports/CsvDownload";
import { useSettled } from "./reports/useSettled";
import { addDays, browserTimeZone, knownTimeZones, todayIn } from "./reports/format";
import "./reports.css";

type ReportData =
  | { id: "daily"; report: GetDailyReportResponse }
  | { id: "monthly"; report: GetMonthlyReportResponse }
  | { id: "visitors"; report: GetVisitorStatisticsResponse }
  | { id: "agents"; report: GetAgentStatisticsResponse }
  | { id: "interactions"; report: GetInteractionStatisticsResponse };

// Controls settle for a moment before a report is asked for, so typing a time zone or a
// year does not send a request per key.
const settleMs = 400;

// The query lives in the address too (?unit=&agent=&from=&to=&tz=), so a report can be
// reloaded, bookmarked and sent to a colleague.
function queryFromAddress(search: string): ReportQuery {
  const p = new URLSearchParams(search);
  const timeZone = p.get("tz") || browserTimeZone();
  let today: string;
  try {
    today = todayIn(timeZone);
  } catch {
    today = todayIn(browserTimeZone()); // the server will name the unknown zone
  }
  const to = p.get("to") ?? today;
  return { unit: p.get("unit") ?? "", agent: p.get("agent") ?? "", from: p.get("from") ?? addDays(today, -29), to, timeZone };
}

function addressOf(q: ReportQuery): string {
  const p = new URLSearchParams();
  if (q.unit) p.set("unit", q.unit);
  if (q.agent) p.set("agent", q.agent);
  p.set("from", q.from);
  p.set("to", q.to);
  p.set("tz", q.timeZone);
  return "?" + p.toString();
}

function rangeOf(q: ReportQuery, def: ReportDef): ReportRange {
  return create(ReportRangeSchema, {
    from: q.from,
    to: q.to,
    timeZone: q.timeZone.trim(),
    businessUnit: q.unit,
    agent: def.agentFilter ? q.agent : "",
  });
}

async function fetchReport(clients: Clients, id: ReportId, range: ReportRange, signal: AbortSignal): Promise<ReportData> {
  const s = clients.supervision;
  switch (id) {
    case "daily":
      return { id, report: await s.getDailyReport({ range }, { signal }) };
    case "monthly":
      return { id, report: await s.getMonthlyReport({ range }, { signal }) };
    case "visitors":
      return { id, report: await s.getVisitorStatistics({ range }, { signal }) };
    case "agents":
      return { id, report: await s.getAgentStatistics({ range }, { signal }) };
    case "interactions":
      return { id, report: await s.getInteractionStatistics({ range }, { signal }) };
  }
}

function ReportBody(props: { data: ReportData }) {
  const d = props.data;
  switch (d.id) {
    case "daily":
      return <DailyReportView report={d.report} />;
    case "monthly":
      return <MonthlyReportView report={d.report} />;
    case "visitors":
      return <VisitorStatisticsView report={d.report} />;
    case "agents":
      return <AgentStatisticsView report={d.report} />;
    case "interactions":
      return <InteractionStatisticsView report={d.report} />;
  }
}

// useAgents lists the agents of a unit (or of every unit the user supervises) to filter by.
function useAgents(clients: Clients, unit: string): AgentChoice[] {
  const [agents, setAgents] = useState<AgentChoice[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    clients.supervision
      .listAgents({ businessUnit: unit }, { signal: ctl.signal })
      .then((r) => setAgents(r.agents.map((a) => ({ agent: a.agent, displayName: a.displayName }))))
      // Without agents to choose, the report still works for all agents.
      .catch(() => !ctl.signal.aborted && setAgents([]));
    return () => ctl.abort();
  }, [clients, unit]);
  return agents;
}

function useReport(clients: Clients, def: ReportDef, query: ReportQuery) {
  const [data, setData] = useState<ReportData | null>(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    fetchReport(clients, def.id, rangeOf(query, def), ctl.signal)
      .then((d) => {
        setData(d);
        setError("");
      })
      .catch((err) => {
        if (ctl.signal.aborted || isAbort(err)) return;
        setData(null);
        setError(errorText(err));
      })
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [clients, def, query]);
  return { data: data?.id === def.id ? data : null, error, loading };
}

export function Reports(props: { route: string }) {
  const { clients, grants, navigate } = useSession();
  const def = reportById(props.route.split("/")[2]);
  const [query, setQuery] = useState(() => queryFromAddress(window.location.search));
  const settled = useSettled(query, settleMs);
  useEffect(() => {
    window.history.replaceState(window.history.state, "", window.location.pathname + addressOf(settled));
  }, [settled]);
  useEffect(() => {
    // Back and forward bring the query of that address back with its tab.
    const onPop = () => setQuery(queryFromAddress(window.location.search));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const units = useMemo(() => unitsWith(grants, "AllChats"), [grants]);
  const timeZones = useMemo(knownTimeZones, []);
  const agents = useAgents(clients, query.unit);
  const { data, error, loading } = useReport(clients, def, settled);
  const [exportKind, setExportKind] = useState<ReportKind>(def.exports[0].kind);
  const chosenExport = def.exports.find((e) => e.kind === exportKind) ?? def.exports[0];

  const openExport = (signal: AbortSignal) =>
    clients.supervision.exportReport(create(ExportReportRequestSchema, { kind: chosenExport.kind, range: rangeOf(settled, def) }), { signal });
  const exportName = def.exports.length > 1 ? `${def.id}-${chosenExport.label.toLowerCase().replace(/ /g, "-")}` : def.id;

  return (
    <div className="reports">
      <h1>Reports</h1>
      <ReportTabs reports={reports} selected={def.id} onSelect={(id) => navigate(`/reports/${id}${addressOf(query)}`)} />
      <ReportControls
        query={query}
        onChange={(c) => setQuery((q) => ({ ...q, ...c }))}
        units={units}
        agents={agents}
        agentFilter={def.agentFilter}
        timeZones={timeZones}
      />
      <section id={panelId} role="tabpanel" aria-labelledby={tabId(def.id)} aria-busy={loading} className="report-panel">
        <div className="report-head">
          <p className="muted report-scope">{def.scope}</p>
          <div className="report-export">
            {def.exports.length > 1 && (
              <div className="control inline">
                <label htmlFor="report-export-kind">CSV of</label>
                <select id="report-export-kind" value={chosenExport.kind} onChange={(e) => setExportKind(Number(e.target.value) as ReportKind)}>
                  {def.exports.map((e) => (
                    <option key={e.kind} value={e.kind}>
                      {e.label}
                    </option>
                  ))}
                </select>
              </div>
            )}
            <CsvDownload key={def.id} open={openExport} filename={`${exportName}-${settled.from}-${settled.to}.csv`} />
          </div>
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {loading && !data && !error && <p className="muted">Loading…</p>}
        {data && (
          <div className={loading ? "report-stale" : undefined}>
            <ReportBody data={data} />
          </div>
        )}
      </section>
    </div>
  );
}
