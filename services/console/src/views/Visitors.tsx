// Visitors: to be built (issue 6).
export function Visitors(_props: { route: string }) {
  return <p className="empty">Visitors is coming.</p>;
}
