// Reports: to be built (issue 6).
export function Reports(_props: { route: string }) {
  return <p className="empty">Reports is coming.</p>;
}
