// Agents: to be built (issue 6).
export function Agents(_props: { route: string }) {
  return <p className="empty">Agents is coming.</p>;
}
