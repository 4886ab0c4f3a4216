import { AgentStatus } from "../../gen/switchboard/chat/v1/chat_pb";

// statusName is an agent's status for people; "unavailable" is how supervisors name away.
export function statusName(status: AgentStatus): string {
  switch (status) {
    case AgentStatus.AVAILABLE:
      return "Available";
    case AgentStatus.BUSY:
      return "Busy";
    case AgentStatus.AWAY:
      return "Away";
    default:
      return "Offline";
  }
}

// statusClass is the status as a CSS class name.
export function statusClass(status: AgentStatus): string {
  return `status-${statusName(status).toLowerCase()}`;
}
