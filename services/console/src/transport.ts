// The Connect transport and error helpers shared by the console and the visitor widget.
// They live apart from api.ts so that the widget's bundle carries only the chat service,
// not the console's auth and supervision clients.
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

// makeTransport talks Connect to baseUrl (the page's own origin by default), with the
// token token() returns, if any, as a bearer token; onExpired hears of a call refused
// because the token expired or was revoked.
export function makeTransport(token: () => string | undefined, baseUrl = window.location.origin, onExpired?: () => void): Transport {
  const bearer: Interceptor = (next) => async (req) => {
    const t = token();
    if (t) req.header.set("Authorization", `Bearer ${t}`);
    try {
      return await next(req);
    } catch (err) {
      if (t && onExpired && isUnauthenticated(err)) onExpired();
      throw err;
    }
  };
  return createConnectTransport({ baseUrl, interceptors: [bearer] });
}

// errorText is what to tell a user about a failed call: the server's message, which names
// the problem, without the code prefix.
export function errorText(err: unknown): string {
  if (err instanceof ConnectError) {
    if (err.code === Code.Unavailable) return "Switchboard cannot be reached; retrying may help.";
    return err.rawMessage || err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

// isAbort tells whether an error is only the end of a stream the page closed itself.
export function isAbort(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Canceled;
}

// isUnauthenticated tells whether the session is over (expired or revoked token).
export function isUnauthenticated(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Unauthenticated;
}
