// Workspace: to be built (issue 6).
export function Workspace(_props: { route: string }) {
  return <p className="empty">Workspace is coming.</p>;
}
