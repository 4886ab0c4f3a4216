import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConversationSchema, ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import {
  GetVisitorResponseSchema,
  PageViewSchema,
  VisitorProfileSchema,
  VisitorSchema,
  VisitorSessionSchema,
} from "../../gen/switchboard/supervision/v1/supervision_pb";
import { VisitorDetail } from "./VisitorDetail";


const at = (iso: string) => timestampFromDate(new Date(iso));
const evil = "<img src=x onerror=alert(1)>";

function visitor(isContact: boolean, name: string) {
  return create(GetVisitorResponseSchema, {
    visitor: create(VisitorSchema, {
      id: "0b7c9a52-2f7e-4c1e-9d0a-3c5b1f2e4d6a",
      isContact,
      visits: 1,
      profile: create(VisitorProfileSchema, { name }),
      firstVisitAt: at("2026-01-14T09:00:00Z"),
      lastSeenAt: at("2026-01-14T09:20:00Z"),
    }),
    sessions: [
      create(VisitorSessionSchema, {
        id: "s1",
        startedAt: at("2026-01-14T09:00:00Z"),
        lastSeenAt: at("2026-01-14T09:03:05Z"),
        site: "https://shop.example.com",
        browser: "Firefox",
        browserVersion: "128",
        os: "Windows",
        osVersion: "10",
        device: "desktop",
        country: "FR",
        pageViewCount: 3,
        pageViews: [
          create(PageViewSchema, { url: "https://shop.example.com/cart", title: evil, viewedAt: at("2026-01-14T09:00:00Z") }),
          create(PageViewSchema, { url: "javascript:alert(1)", viewedAt: at("2026-01-14T09:01:00Z") }),
        ],
      }),
    ],
    conversations: [
      create(ConversationSchema, {
        id: "c-42",
        businessUnit: "sales",
        agent: "alice",
        state: ConversationState.CLOSED,
        createdAt: at("2026-01-14T09:05:00Z"),
        lastActivityAt: at("2026-01-14T09:15:00Z"),
      }),
    ],
  });
}

function show(data = visitor(true, "Ada Lovelace"), onDelete = async () => {}) {
  const routes: string[] = [];
  render(<VisitorDetail data={data} base="/t/acme" navigate={(r) => routes.push(r)} onSave={async () => {}} onDelete={onDelete} loaded={1} />);
  return routes;
}

describe("visitor profile", () => {
  it("links each conversation to its transcript in All chats", () => {
    const routes = show();
    const row = screen.getByRole("row", { name: /sales/ });
    const link = row.querySelector("a")!;
    expect(link.getAttribute("href")).toBe("/t/acme/chats/c-42");
    expect(row.textContent).toContain("alice");
    expect(row.textContent).toContain("Closed");
    fireEvent.click(link);
    expect(routes).toEqual(["/chats/c-42"]);
  });

  it("shows the visit: how long, how many pages, which browser, and the pages", () => {
    show();
    expect(screen.getByText(/3 min 05 s · 3 pages/)).toBeTruthy();
    expect(screen.getByText("Firefox 128 on Windows 10 · desktop · FR")).toBeTruthy();
    expect(screen.getByText("Pages viewed (3)")).toBeTruthy();
    expect(screen.getByText("and 1 more")).toBeTruthy();
  });

  it("renders names and page titles as text, and links no script address", () => {
    show(visitor(true, evil));
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(evil);
    expect(screen.getByRole("link", { name: evil }).getAttribute("href")).toBe("https://shop.example.com/cart");
    expect(screen.queryByRole("link", { name: "javascript:alert(1)" })).toBeNull();
    expect(screen.getByText("javascript:alert(1)")).toBeTruthy();
    expect(document.querySelector("img")).toBeNull();
  });

  it("asks before deleting a contact, and Escape keeps it", async () => {
    let deleted = 0;
    show(visitor(true, "Ada Lovelace"), async () => void deleted++);
    const button = screen.getByRole("button", { name: "Delete contact" });
    button.focus();
    fireEvent.click(button);
    const dialog = screen.getByRole("alertdialog", { name: "Delete this contact?" });
    expect(document.activeElement?.textContent).toBe("Cancel");
    fireEvent.keyDown(dialog, { key: "Escape" });
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(deleted).toBe(0);
    expect(document.activeElement).toBe(button);

    fireEvent.click(button);
    fireEvent.click(screen.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(deleted).toBe(1);
  });

  it("offers to make an anonymous visitor a contact, with nothing to delete", () => {
    show(visitor(false, ""));
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Anonymous visitor");
    expect(screen.getByText("Give a name, an email or a phone number to make this visitor a contact.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Delete contact" })).toBeNull();
  });
});
