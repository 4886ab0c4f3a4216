// Supervised: to be built (issue 6).
export function Supervised(_props: { route: string }) {
  return <p className="empty">Supervised is coming.</p>;
}
