import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { ReportTabs } from "./ReportTabs";
import { reports, type ReportId } from "./kinds";


function Tabs() {
  const [selected, setSelected] = useState<ReportId>("daily");
  return <ReportTabs reports={reports} selected={selected} onSelect={setSelected} />;
}

describe("report tabs", () => {
  it("lists the five reports with the chosen one selected", () => {
    render(<Tabs />);
    const tabs = screen.getAllByRole("tab");
    expect(tabs.map((t) => t.textContent)).toEqual(["Daily report", "Monthly report", "Visitor statistics", "Agent statistics", "Interaction statistics"]);
    expect(screen.getByRole("tab", { selected: true }).textContent).toBe("Daily report");
  });

  it("moves with the arrow keys, Home and End, and keeps one tab in the tab order", () => {
    render(<Tabs />);
    const daily = screen.getByRole("tab", { name: "Daily report" });
    fireEvent.keyDown(daily, { key: "ArrowRight" });
    const monthly = screen.getByRole("tab", { name: "Monthly report" });
    expect(monthly.getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement).toBe(monthly);
    fireEvent.keyDown(monthly, { key: "End" });
    expect(screen.getByRole("tab", { selected: true }).textContent).toBe("Interaction statistics");
    fireEvent.keyDown(document.activeElement!, { key: "ArrowRight" });
    expect(screen.getByRole("tab", { selected: true }).textContent).toBe("Daily report");
    fireEvent.keyDown(document.activeElement!, { key: "ArrowLeft" });
    expect(screen.getByRole("tab", { selected: true }).textContent).toBe("Interaction statistics");
    expect(screen.getAllByRole("tab").filter((t) => t.tabIndex === 0)).toHaveLength(1);
  });
});
