// Which tenant the console is for: from the path (/t/<tenant>/...) or, on a tenant's own
// console host, from the page, where the server names it.

export interface Place {
  // tenant is the tenant's name, empty when neither the path nor the host names one.
  tenant: string;
  // base is the path prefix of the console's routes ("/t/acme" or "").
  base: string;
  // route is the rest of the path ("/board").
  route: string;
}

export function place(pathname: string, doc: Document = document): Place {
  const m = /^\/t\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\/.*)?$/.exec(pathname);
  if (m) return { tenant: m[1], base: `/t/${m[1]}`, route: m[3] || "/" };
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="switchboard-tenant"]');
  if (meta?.content) return { tenant: meta.content, base: "", route: pathname || "/" };
  return { tenant: "", base: "", route: pathname || "/" };
}
