-- Under row-level security PostgreSQL may not use the GIN index for `@@`: the operator is
-- not leakproof, so it may not run before the tenant check, and every text search read
-- the whole table. The application role now reaches search documents only through a view
-- that keeps the current tenant's rows (and refuses to write others'), which the planner
-- flattens into the query and serves from the index. The table itself is not granted to
-- the application role (see grantApp).
DROP POLICY tenant_isolation ON conversation_search;
ALTER TABLE conversation_search DISABLE ROW LEVEL SECURITY;
CREATE VIEW tenant_conversation_search AS
    SELECT * FROM conversation_search WHERE tenant_id = sb_current_tenant()
    WITH CASCADED CHECK OPTION;
