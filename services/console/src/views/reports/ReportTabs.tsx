// ReportTabs is the tab list of the reports: arrow keys, Home and End move between tabs
// and open the one they reach, as the WAI-ARIA tabs pattern has it.
import { useRef } from "react";
import type { ReportDef, ReportId } from "./kinds";

export const panelId = "report-panel";
export const tabId = (id: ReportId) => `report-tab-${id}`;

export function ReportTabs(props: { reports: ReportDef[]; selected: ReportId; onSelect: (id: ReportId) => void }) {
  const { reports, selected, onSelect } = props;
  const list = useRef<HTMLDivElement>(null);

  const move = (e: React.KeyboardEvent, from: number) => {
    const last = reports.length - 1;
    const to = { ArrowRight: from + 1, ArrowLeft: from - 1, Home: 0, End: last }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = reports[(to + reports.length) % reports.length];
    onSelect(next.id);
    list.current?.querySelector<HTMLButtonElement>(`#${tabId(next.id)}`)?.focus();
  };

  return (
    <div className="report-tabs" role="tablist" aria-label="Reports" ref={list}>
      {reports.map((r, i) => (
        <button
          key={r.id}
          type="button"
          role="tab"
          id={tabId(r.id)}
          aria-selected={r.id === selected}
          aria-controls={panelId}
          tabIndex={r.id === selected ? 0 : -1}
          onClick={() => onSelect(r.id)}
          onKeyDown={(e) => move(e, i)}
        >
          {r.label}
        </button>
      ))}
    </div>
  );
}
