// Board: to be built (issue 6).
export function Board(_props: { route: string }) {
  return <p className="empty">Board is coming.</p>;
}
