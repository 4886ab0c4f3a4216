import { useState } from "react";
import type { Client } from "@connectrpc/connect";
import { errorText } from "../api";
import type { AuthService } from "../gen/switchboard/auth/v1/auth_pb";

// Login signs a local account of the tenant in.
export function Login(props: { tenant: string; auth: Client<typeof AuthService>; onLogin: (token: string, expiresAt: number) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <main className="center">
      <form
        className="card login"
        aria-label="Sign in"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError("");
          try {
            const r = await props.auth.login({ tenant: props.tenant, username, password });
            props.onLogin(r.token, Number(r.expiresAtUnix));
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>Sign in to {props.tenant}</h1>
        <label>
          Username
          <input name="username" autoComplete="username" required autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
