-- Tenant spec.limits: the rate limits a tenant sets for itself over the server's defaults,
-- as the JSON object of the spec (only the limits it sets; see services/limits).
ALTER TABLE tenants ADD COLUMN limits jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(limits) = 'object');

-- sb_tenant_limits gives every replica each tenant's limits (and its name, for the metrics
-- of refused calls), nothing else.
CREATE FUNCTION sb_tenant_limits() RETURNS TABLE (tenant_id uuid, name text, limits jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.tenant_id, t.name, t.limits FROM tenants t $$;

REVOKE ALL ON FUNCTION sb_tenant_limits() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sb_tenant_limits() TO switchboard_app;

-- Replicas read the limits again when they change, and forget the widget keys they hold for
-- a tenant that is suspended or resumed (channel switchboard_config, migration 0008).
CREATE TRIGGER tenants_limits_changed AFTER UPDATE OF limits, suspended ON tenants
    FOR EACH ROW WHEN (OLD.limits IS DISTINCT FROM NEW.limits OR OLD.suspended IS DISTINCT FROM NEW.suspended)
    EXECUTE FUNCTION sb_config_changed();
CREATE TRIGGER tenants_limits_created AFTER INSERT ON tenants
    FOR EACH ROW WHEN (NEW.limits <> '{}') EXECUTE FUNCTION sb_config_changed();
