import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { AgentStatus, ListTransferTargetsResponseSchema } from "../../gen/switchboard/chat/v1/chat_pb";
import { TransferDialog } from "./TransferDialog";

const targets = create(ListTransferTargetsResponseSchema, {
  agents: [
    { agent: "ben", displayName: "Ben", status: AgentStatus.AVAILABLE, openConversations: 1, capacity: 3, canTakeNow: true, servesUnit: true },
    { agent: "cat", displayName: '<img src=x onerror="window.__xss=1">', status: AgentStatus.AVAILABLE, openConversations: 2, capacity: 2, canTakeNow: false, servesUnit: true },
    { agent: "dan", displayName: "Dan", status: AgentStatus.AWAY, openConversations: 0, capacity: 3, canTakeNow: false, servesUnit: true },
  ],
  businessUnits: [{ businessUnit: "sales", displayName: "Sales", agentsOnline: 2, current: true }],
});

describe("TransferDialog with the server's targets", () => {
  it("offers the agents who can take it with their load, the others disabled with why, then units", async () => {
    render(<TransferDialog units={["sales"]} currentUnit="sales" error="" onCancel={() => {}} onConfirm={async () => {}} load={async () => targets} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "Ben — 1/3" })).toBeTruthy());
    expect((screen.getByRole("option", { name: "Ben — 1/3" }) as HTMLOptionElement).disabled).toBe(false);
    expect((screen.getByRole("option", { name: '<img src=x onerror="window.__xss=1"> — full 2/2' }) as HTMLOptionElement).disabled).toBe(true);
    expect((screen.getByRole("option", { name: "Dan — away" }) as HTMLOptionElement).disabled).toBe(true);
    expect(screen.getByRole("option", { name: "Sales (this business unit) — 2 online" })).toBeTruthy();
    expect(screen.queryByRole("option", { name: "A named agent…" })).toBeNull();
    expect(document.querySelector("img")).toBeNull();
  });
});
