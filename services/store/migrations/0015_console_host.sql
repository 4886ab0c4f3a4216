-- A tenant's console can answer on a host name of its own (Tenant spec.consoleHost), where
-- no path names the tenant: the console finds it by the request's host.
ALTER TABLE tenants ADD COLUMN console_host text UNIQUE CHECK (console_host = lower(console_host));

-- sb_tenant_by_console_host names the tenant whose console answers on a host; the name is
-- public (it is in the console's paths), nothing else is returned.
CREATE FUNCTION sb_tenant_by_console_host(p_host text) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.name FROM tenants t WHERE t.console_host = p_host AND NOT t.suspended $$;
