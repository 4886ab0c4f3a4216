// OpenChats: to be built (issue 6).
export function OpenChats(_props: { route: string }) {
  return <p className="empty">OpenChats is coming.</p>;
}
