// Clients of Switchboard's Connect services for the browser. Every call carries the
// session's bearer token; the console talks to the same API as every other client.
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "./gen/switchboard/auth/v1/auth_pb";
import { ChatService } from "./gen/switchboard/chat/v1/chat_pb";
import { SupervisionService } from "./gen/switchboard/supervision/v1/supervision_pb";

export interface Clients {
  auth: Client<typeof AuthService>;
  chat: Client<typeof ChatService>;
  supervision: Client<typeof SupervisionService>;
}

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

export function makeClients(transport: Transport): Clients {
  return {
    auth: createClient(AuthService, transport),
    chat: createClient(ChatService, transport),
    supervision: createClient(SupervisionService, transport),
  };
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
