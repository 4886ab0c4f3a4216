// The console's shell: the tenant, the login, the navigation the account may see, and the
// view of the current route.
import { useCallback, useEffect, useMemo, useState } from "react";
import { errorText, isUnauthenticated, makeClients, makeTransport } from "./api";
import type { Account, UnitGrant } from "./gen/switchboard/auth/v1/auth_pb";
import { allowedRoutes, routeFor } from "./routes";
import { SessionContext, clearToken, loadToken, saveToken, type Session } from "./session";
import { place } from "./tenant";
import { Login } from "./views/Login";
import { TenantPicker } from "./views/TenantPicker";
import { Board } from "./views/Board";
import { Agents } from "./views/Agents";
import { OpenChats } from "./views/OpenChats";
import { Supervised } from "./views/Supervised";
import { AllChats } from "./views/AllChats";
import { Reports } from "./views/Reports";
import { Visitors } from "./views/Visitors";
import { Workspace } from "./views/Workspace";

const views: Record<string, (props: { route: string }) => React.ReactElement> = {
  "/board": Board,
  "/agents": Agents,
  "/open": OpenChats,
  "/supervised": Supervised,
  "/chats": AllChats,
  "/reports": Reports,
  "/visitors": Visitors,
  "/workspace": Workspace,
};

export function App() {
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  const here = place(window.location.pathname);
  const tenant = here.tenant;
  const [stored, setStored] = useState(() => (tenant ? loadToken(tenant) : null));
  const token = stored?.token;
  const [who, setWho] = useState<{ account: Account; grants: UnitGrant[] } | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    const onPop = () => setLocation(window.location.pathname + window.location.search);
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const signOut = useCallback(() => {
    clearToken(tenant);
    setStored(null);
    setWho(null);
  }, [tenant]);

  const clients = useMemo(() => makeClients(makeTransport(() => token, window.location.origin, signOut)), [token, signOut]);

  // The session ends when its token expires, whatever the page is doing.
  useEffect(() => {
    if (!stored) return;
    // (A timer longer than 2^31 ms would fire at once; tokens live far less than that.)
    const t = setTimeout(signOut, Math.min(Math.max(stored.expiresAt * 1000 - Date.now(), 0), 2 ** 31 - 1));
    return () => clearTimeout(t);
  }, [stored, signOut]);

  useEffect(() => {
    if (!token) return;
    let live = true;
    clients.auth
      .whoAmI({})
      .then((r) => {
        if (live && r.account) setWho({ account: r.account, grants: r.grants });
      })
      .catch((err) => {
        if (!live) return;
        if (isUnauthenticated(err)) signOut();
        else setError(errorText(err));
      });
    return () => {
      live = false;
    };
  }, [clients, token, signOut]);

  const navigate = useCallback(
    (route: string) => {
      const url = here.base + route;
      window.history.pushState(null, "", url);
      setLocation(url);
    },
    [here.base],
  );

  if (!tenant) return <TenantPicker />;
  if (!token) {
    return (
      <Login
        tenant={tenant}
        auth={clients.auth}
        onLogin={(t, expiresAt) => {
          saveToken(tenant, { token: t, expiresAt });
          setError("");
          setStored({ token: t, expiresAt });
        }}
      />
    );
  }
  if (!who) {
    return (
      <main className="center" aria-busy={!error}>
        {error ? <p role="alert" className="error">{error}</p> : <p>Signing in…</p>}
      </main>
    );
  }

  const session: Session = {
    tenant,
    account: who.account,
    grants: who.grants,
    clients,
    navigate,
    logout: async () => {
      try {
        await clients.auth.logout({});
      } catch {
        // The token is forgotten here whatever the server says.
      }
      signOut();
    },
  };
  const allowed = allowedRoutes(who.account, who.grants);
  const route = place(location.split("?")[0]).route;
  const current = routeFor(route, allowed);
  const View = current ? views[current.path] : undefined;

  return (
    <SessionContext.Provider value={session}>
      <div className="shell">
        <header className="topbar">
          <a className="skip" href="#main">Skip to content</a>
          <span className="brand">Switchboard</span>
          <span className="tenant" title="Tenant">{tenant}</span>
          <nav aria-label="Views">
            {allowed.map((r) => (
              <a
                key={r.path}
                href={here.base + r.path}
                aria-current={current?.path === r.path ? "page" : undefined}
                onClick={(e) => {
                  if (e.metaKey || e.ctrlKey || e.shiftKey) return;
                  e.preventDefault();
                  navigate(r.path);
                }}
              >
                {r.label}
              </a>
            ))}
          </nav>
          <span className="who">{who.account.displayName || who.account.username}</span>
          <button type="button" onClick={() => void session.logout()}>
            Log out
          </button>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {View ? <View route={route} /> : <p className="empty">Your account has no view in this console. Ask a tenant admin for a business unit.</p>}
        </main>
      </div>
    </SessionContext.Provider>
  );
}
