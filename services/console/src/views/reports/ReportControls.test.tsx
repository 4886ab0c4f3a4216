import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { ReportControls, type ReportQuery } from "./ReportControls";


const query: ReportQuery = { unit: "", agent: "alice", from: "2026-01-01", to: "2026-01-31", timeZone: "Europe/Paris" };

describe("report controls", () => {
  it("offers the user's units, the agents, the range and the time zone, each labelled", () => {
    render(<ReportControls query={query} onChange={() => {}} units={["sales", "support"]} agents={[{ agent: "alice", displayName: "Alice" }]} agentFilter timeZones={["Europe/Paris", "UTC"]} />);
    const unit = screen.getByLabelText("Unit") as HTMLSelectElement;
    expect([...unit.options].map((o) => o.textContent)).toEqual(["All my units", "sales", "support"]);
    expect((screen.getByLabelText("Agent") as HTMLSelectElement).value).toBe("alice");
    expect((screen.getByLabelText("From") as HTMLInputElement).type).toBe("date");
    expect((screen.getByLabelText("To") as HTMLInputElement).value).toBe("2026-01-31");
    expect((screen.getByLabelText("Time zone") as HTMLInputElement).value).toBe("Europe/Paris");
    // The names hold the label alone, not the options' text.
    expect(screen.getByRole("combobox", { name: "Agent" })).toBe(screen.getByLabelText("Agent"));
    expect(screen.getByRole("combobox", { name: "Unit" })).toBe(unit);
  });

  it("forgets the agent when the unit changes", () => {
    const changes: Partial<ReportQuery>[] = [];
    render(<ReportControls query={query} onChange={(c) => changes.push(c)} units={["sales"]} agents={[]} agentFilter timeZones={[]} />);
    fireEvent.change(screen.getByLabelText("Unit"), { target: { value: "sales" } });
    expect(changes).toEqual([{ unit: "sales", agent: "" }]);
  });

  it("hides the agent where the report has no use for it", () => {
    render(<ReportControls query={query} onChange={() => {}} units={[]} agents={[]} agentFilter={false} timeZones={[]} />);
    expect(screen.queryByLabelText("Agent")).toBeNull();
  });
});
