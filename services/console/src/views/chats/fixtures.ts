// Test inputs built from the real generated message types.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AgentStatus, ConversationSchema, ConversationState, type Conversation } from "../../gen/switchboard/chat/v1/chat_pb";
import { AgentLoadSchema, OpenChatSchema, type AgentLoad, type OpenChat } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { SignalLevel, SignalSchema } from "../../gen/switchboard/supervision/v1/signal_pb";

export const evilName = "<img src=x onerror=alert(1)>";

export function conversation(id: string, fields: Partial<Omit<Conversation, "$typeName">> = {}, lastActivity = new Date("2026-11-23T09:00:00Z")): Conversation {
  return create(ConversationSchema, {
    id,
    businessUnit: "sales",
    state: ConversationState.ACTIVE,
    agent: "alice",
    visitorId: `visitor-${id}`,
    visitorName: `Visitor ${id}`,
    createdAt: timestampFromDate(new Date(lastActivity.getTime() - 600_000)),
    lastActivityAt: timestampFromDate(lastActivity),
    ...fields,
  });
}

export function openChat(c: Conversation, fields: { inactive?: boolean; waitingSeconds?: bigint; levels?: SignalLevel[] } = {}): OpenChat {
  return create(OpenChatSchema, {
    conversation: c,
    inactive: fields.inactive ?? false,
    waitingSeconds: fields.waitingSeconds ?? 0n,
    signals: (fields.levels ?? []).map((level, i) =>
      create(SignalSchema, { id: `s${i}`, objective: "first-response", metric: "firstResponseTime", level, conversationId: c.id, summary: "first response 2m10s" }),
    ),
  });
}

export const agents: AgentLoad[] = [
  create(AgentLoadSchema, { agent: "alice", displayName: "Alice Martin", status: AgentStatus.AVAILABLE, openConversations: 2, capacity: 3, businessUnits: ["sales"] }),
  create(AgentLoadSchema, { agent: "bob", displayName: "Bob Stone", status: AgentStatus.BUSY, openConversations: 1, capacity: 4, businessUnits: ["sales", "support"] }),
  create(AgentLoadSchema, { agent: "carol", displayName: "Carol Diaz", status: AgentStatus.AVAILABLE, openConversations: 0, capacity: 2, businessUnits: ["support"] }),
];
