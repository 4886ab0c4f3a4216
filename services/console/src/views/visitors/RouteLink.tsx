// RouteLink is a link to one of the console's routes: a real link (open in a new tab
// works), followed in the page on a plain click.
import type { ReactNode } from "react";

export function RouteLink(props: { base: string; route: string; navigate: (route: string) => void; children: ReactNode; className?: string }) {
  const { base, route, navigate, children, className } = props;
  return (
    <a
      href={base + route}
      className={className}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
        e.preventDefault();
        navigate(route);
      }}
    >
      {children}
    </a>
  );
}
