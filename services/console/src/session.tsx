// The signed-in session: who the user is, what they may see, and the clients that carry
// their token. The token is kept per tenant in the browser's local storage until logout or
// expiry.
import { createContext, useContext } from "react";
import type { Account, UnitGrant } from "./gen/switchboard/auth/v1/auth_pb";
import { Role } from "./gen/switchboard/auth/v1/auth_pb";
import type { Clients } from "./api";

export type Permission = "Supervise" | "SuperviseOpenChats" | "AllChats";

export interface Session {
  tenant: string;
  account: Account;
  grants: UnitGrant[];
  clients: Clients;
  // navigate moves to one of the console's routes ("/board").
  navigate: (route: string) => void;
  // logout ends the session on the server and here.
  logout: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in console");
  return s;
}

// unitsWith lists the units on which the session holds perm.
export function unitsWith(grants: UnitGrant[], perm: Permission): string[] {
  return grants.filter((g) => g.permissions.includes(perm)).map((g) => g.businessUnit);
}

export function isStaffSupervisor(account: Account): boolean {
  return account.role === Role.SUPERVISOR || account.role === Role.ADMIN;
}

export function isAgent(account: Account): boolean {
  return account.agent !== "";
}

export interface StoredToken {
  token: string;
  expiresAt: number; // seconds since the epoch
}

const key = (tenant: string) => `switchboard.session.${tenant}`;

export function loadToken(tenant: string, storage: Storage = localStorage): StoredToken | null {
  try {
    const raw = storage.getItem(key(tenant));
    if (!raw) return null;
    const t = JSON.parse(raw) as StoredToken;
    if (typeof t.token !== "string" || typeof t.expiresAt !== "number") return null;
    if (t.expiresAt * 1000 <= Date.now()) {
      storage.removeItem(key(tenant));
      return null;
    }
    return t;
  } catch {
    return null;
  }
}

export function saveToken(tenant: string, t: StoredToken, storage: Storage = localStorage) {
  storage.setItem(key(tenant), JSON.stringify(t));
}

export function clearToken(tenant: string, storage: Storage = localStorage) {
  storage.removeItem(key(tenant));
}
