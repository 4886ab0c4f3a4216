// AllChats: to be built (issue 6).
export function AllChats(_props: { route: string }) {
  return <p className="empty">AllChats is coming.</p>;
}
