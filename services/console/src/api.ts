// Clients of Switchboard's Connect services for the browser. Every call carries the
// session's bearer token; the console talks to the same API as every other client.
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { AuthService } from "./gen/switchboard/auth/v1/auth_pb";
import { ChatService } from "./gen/switchboard/chat/v1/chat_pb";
import { SupervisionService } from "./gen/switchboard/supervision/v1/supervision_pb";

export { errorText, isAbort, isUnauthenticated, makeTransport } from "./transport";

export interface Clients {
  auth: Client<typeof AuthService>;
  chat: Client<typeof ChatService>;
  supervision: Client<typeof SupervisionService>;
}

export function makeClients(transport: Transport): Clients {
  return {
    auth: createClient(AuthService, transport),
    chat: createClient(ChatService, transport),
    supervision: createClient(SupervisionService, transport),
  };
}
