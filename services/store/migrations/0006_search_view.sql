-- Under row-level security PostgreSQL may not use the GIN index for `@@`: the operator is
-- not leakproof, so it may not run before the tenant check, and every text search read
-- the whole table. The application role now reaches search documents only through a view
-- that keeps the current tenant's rows (and refuses to write others'); the table itself
-- is not granted to it (see grantApp).
--
-- Two details keep the planner free to use the index when the view is joined with
-- conversations, which are under row-level security:
--   - the view names the tenant through its own function, sb_search_tenant(), and
--   - queries join it by conversation_id alone (hence the index on it).
-- Had the view compared tenant_id with sb_current_tenant(), or had the join matched
-- tenant_id too, the planner would derive the policy's tenant check for the search rows
-- as well, and that check would again have to run before `@@`.
DROP POLICY tenant_isolation ON conversation_search;
ALTER TABLE conversation_search DISABLE ROW LEVEL SECURITY;
CREATE INDEX conversation_search_by_conversation ON conversation_search (conversation_id);

CREATE FUNCTION sb_search_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN current_setting('switchboard.tenant_id', true) <> ''
                  THEN current_setting('switchboard.tenant_id', true)::uuid END $$;

CREATE VIEW tenant_conversation_search AS
    SELECT * FROM conversation_search WHERE tenant_id = sb_search_tenant()
    WITH CASCADED CHECK OPTION;
