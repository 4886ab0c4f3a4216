-- Where a tenant's chat widget may be shown (Tenant spec.widget.allowedOrigins): the
-- origins `serve` names in the Content-Security-Policy frame-ancestors of the widget's
-- frame. Empty, the default, lets every site show it.
ALTER TABLE tenants ADD COLUMN widget_origins text[] NOT NULL DEFAULT '{}';

-- sb_widget_origins gives the frame of a widget key its tenant and allowed origins: the
-- frame's request carries nothing but the public key, before any tenant is known.
CREATE FUNCTION sb_widget_origins(p_widget_key text) RETURNS TABLE (tenant_id uuid, origins text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.tenant_id, t.widget_origins FROM tenants t WHERE t.widget_key = p_widget_key $$;

-- Every `serve` replica keeps the origins of the keys it served in memory; a change, or
-- the tenant's removal, tells them on channel switchboard_widget with the tenant's id.
CREATE FUNCTION sb_widget_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('switchboard_widget', OLD.tenant_id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER tenants_widget_origins_changed AFTER UPDATE OF widget_origins ON tenants
    FOR EACH ROW WHEN (OLD.widget_origins IS DISTINCT FROM NEW.widget_origins) EXECUTE FUNCTION sb_widget_changed();
CREATE TRIGGER tenants_widget_deleted AFTER DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION sb_widget_changed();
