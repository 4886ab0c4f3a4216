import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { AccountSchema, Role, UnitGrantSchema } from "./gen/switchboard/auth/v1/auth_pb";
import { allowedRoutes, routeFor } from "./routes";
import { place } from "./tenant";

const grant = (unit: string, ...permissions: string[]) => create(UnitGrantSchema, { businessUnit: unit, permissions });

describe("views by role and permission", () => {
  it("shows an agent only the workspace", () => {
    const agent = create(AccountSchema, { role: Role.AGENT, agent: "alice", username: "alice" });
    expect(allowedRoutes(agent, []).map((r) => r.path)).toEqual(["/workspace"]);
  });
  it("shows a supervisor with only Supervise the board, agents and supervised chats", () => {
    const sup = create(AccountSchema, { role: Role.SUPERVISOR, username: "sam" });
    expect(allowedRoutes(sup, [grant("sales", "Supervise")]).map((r) => r.path)).toEqual(["/board", "/agents", "/supervised"]);
  });
  it("shows a supervisor with every permission every supervision view", () => {
    const sup = create(AccountSchema, { role: Role.SUPERVISOR, username: "sam" });
    const paths = allowedRoutes(sup, [grant("sales", "Supervise", "SuperviseOpenChats", "AllChats")]).map((r) => r.path);
    expect(paths).toEqual(["/board", "/agents", "/open", "/supervised", "/chats", "/reports", "/visitors"]);
  });
  it("shows a supervisor without grants nothing", () => {
    const sup = create(AccountSchema, { role: Role.SUPERVISOR, username: "sam" });
    expect(allowedRoutes(sup, [])).toEqual([]);
  });
  it("falls back to the first allowed view for a view not allowed", () => {
    const agent = create(AccountSchema, { role: Role.AGENT, agent: "alice" });
    expect(routeFor("/reports", allowedRoutes(agent, []))?.path).toBe("/workspace");
  });
});

describe("tenant from the path or the page", () => {
  it("reads /t/<tenant>/<route>", () => {
    expect(place("/t/acme/board/x")).toEqual({ tenant: "acme", base: "/t/acme", route: "/board/x" });
    expect(place("/t/acme")).toEqual({ tenant: "acme", base: "/t/acme", route: "/" });
  });
  it("refuses a tenant name that is not a DNS label", () => {
    expect(place("/t/Acme<script>/").tenant).toBe("");
  });
  it("reads the tenant the server names on a console host", () => {
    const doc = document.implementation.createHTMLDocument();
    const meta = doc.createElement("meta");
    meta.name = "switchboard-tenant";
    meta.content = "globex";
    doc.head.append(meta);
    expect(place("/board", doc)).toEqual({ tenant: "globex", base: "", route: "/board" });
  });
});
