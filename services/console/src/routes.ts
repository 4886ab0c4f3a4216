// The console's views, and who sees each: a view shows when the account's role and grants
// open it (the server checks every call again; this only hides what would be refused).
import type { Account, UnitGrant } from "./gen/switchboard/auth/v1/auth_pb";
import { isAgent, isStaffSupervisor, unitsWith } from "./session";

export interface RouteDef {
  path: string;
  label: string;
  allowed: (account: Account, grants: UnitGrant[]) => boolean;
}

const anyGrant = (a: Account, g: UnitGrant[]) => isStaffSupervisor(a) && g.some((x) => x.permissions.length > 0);

export const routes: RouteDef[] = [
  { path: "/board", label: "Board", allowed: anyGrant },
  { path: "/agents", label: "Agents", allowed: anyGrant },
  { path: "/open", label: "Open chats", allowed: (a, g) => isStaffSupervisor(a) && unitsWith(g, "SuperviseOpenChats").length > 0 },
  { path: "/supervised", label: "My supervised chats", allowed: (a, g) => isStaffSupervisor(a) && unitsWith(g, "Supervise").length > 0 },
  { path: "/chats", label: "All chats", allowed: (a, g) => isStaffSupervisor(a) && unitsWith(g, "AllChats").length > 0 },
  { path: "/reports", label: "Reports", allowed: (a, g) => isStaffSupervisor(a) && unitsWith(g, "AllChats").length > 0 },
  { path: "/visitors", label: "Visitors", allowed: (a, g) => isStaffSupervisor(a) && unitsWith(g, "AllChats").length > 0 },
  { path: "/workspace", label: "Workspace", allowed: (a) => isAgent(a) },
];

export function allowedRoutes(account: Account, grants: UnitGrant[]): RouteDef[] {
  return routes.filter((r) => r.allowed(account, grants));
}

// routeFor picks the view for a path: the one named if allowed, else the first allowed.
export function routeFor(path: string, allowed: RouteDef[]): RouteDef | undefined {
  const top = "/" + (path.split("/")[1] ?? "");
  return allowed.find((r) => r.path === top) ?? allowed[0];
}
