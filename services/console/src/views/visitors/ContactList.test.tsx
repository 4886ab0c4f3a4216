import { describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { VisitorProfileSchema, VisitorSchema } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { ContactList, type Paging } from "./ContactList";


const contact = (id: string, name: string, email = "", phone = "") =>
  create(VisitorSchema, {
    id,
    isContact: true,
    visits: 3,
    profile: create(VisitorProfileSchema, { name, email, phone }),
    lastSeenAt: timestampFromDate(new Date("2026-01-14T10:00:00Z")),
  });

const firstPage: Paging = { page: 1, hasPrevious: false, hasNext: false, onPrevious: () => {}, onNext: () => {} };

function list(overrides: Partial<Parameters<typeof ContactList>[0]> = {}) {
  const routes: string[] = [];
  render(
    <ContactList
      contacts={[]}
      query=""
      onQuery={() => {}}
      loading={false}
      error=""
      paging={firstPage}
      base="/t/acme"
      navigate={(r) => routes.push(r)}
      {...overrides}
    />,
  );
  return routes;
}

describe("contacts list", () => {
  it("links each contact to its profile, named by name, else email or phone", () => {
    const routes = list({ contacts: [contact("v1", "Ada Lovelace", "ada@example.com"), contact("v2", "", "", "+33 1 23 45 67 89")] });
    const ada = screen.getByRole("link", { name: "Ada Lovelace" });
    expect(ada.getAttribute("href")).toBe("/t/acme/visitors/v1");
    expect(screen.getByText("ada@example.com")).toBeTruthy();
    expect(screen.getByRole("link", { name: "+33 1 23 45 67 89" }).getAttribute("href")).toBe("/t/acme/visitors/v2");
    fireEvent.click(ada);
    expect(routes).toEqual(["/visitors/v1"]);
  });

  it("renders a contact's name as text, never as HTML", () => {
    const evil = "<img src=x onerror=alert(1)>";
    list({ contacts: [contact("v1", evil)] });
    expect(screen.getByRole("link", { name: evil })).toBeTruthy();
    expect(document.querySelector("img")).toBeNull();
  });

  it("tells an empty list from a search that found nothing", () => {
    list();
    expect(screen.getByText("No contacts yet.")).toBeTruthy();
    cleanup();
    list({ query: "zed" });
    expect(screen.getByText("No contact matches this search.")).toBeTruthy();
  });

  it("searches as the user types", () => {
    const typed: string[] = [];
    list({ onQuery: (q) => typed.push(q) });
    fireEvent.change(screen.getByRole("searchbox", { name: "Search contacts" }), { target: { value: "ada" } });
    expect(typed).toEqual(["ada"]);
  });

  it("pages forward and back", () => {
    const moves: string[] = [];
    list({
      contacts: [contact("v1", "Ada")],
      paging: { page: 2, hasPrevious: true, hasNext: false, onPrevious: () => moves.push("previous"), onNext: () => moves.push("next") },
    });
    expect(screen.getByText("Page 2")).toBeTruthy();
    expect((screen.getByRole("button", { name: "Next page" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Previous page" }));
    expect(moves).toEqual(["previous"]);
  });

  it("shows the server's reason when the list cannot be read", () => {
    list({ error: "contacts need AllChats on some business unit" });
    expect(screen.getByRole("alert").textContent).toBe("contacts need AllChats on some business unit");
  });
});
