-- The services pick up configuration changes without a restart: a change that can let a
-- queued conversation be served (more capacity, an agent joining a unit, a tenant no
-- longer suspended) notifies channel switchboard_config with the tenant's id, and every
-- `serve` replica dispatches that tenant's queues. Routine routing updates (status, load)
-- do not notify.
CREATE FUNCTION sb_config_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('switchboard_config', NEW.tenant_id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER agents_capacity_changed AFTER INSERT OR UPDATE OF capacity ON agents
    FOR EACH ROW WHEN (NEW.capacity > 0) EXECUTE FUNCTION sb_config_changed();
CREATE TRIGGER agent_units_added AFTER INSERT ON agent_units
    FOR EACH ROW EXECUTE FUNCTION sb_config_changed();
CREATE TRIGGER tenants_resumed AFTER UPDATE OF suspended ON tenants
    FOR EACH ROW WHEN (OLD.suspended AND NOT NEW.suspended) EXECUTE FUNCTION sb_config_changed();
