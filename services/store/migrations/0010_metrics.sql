-- sb_unit_stats gives the metrics endpoint every business unit's live figures in one query,
-- across tenants (the only cross-tenant read the services make, and only of counts):
-- conversations queued and open, agents by status, used and free slots of the agents
-- online. An agent in several units counts in each.
CREATE FUNCTION sb_unit_stats()
RETURNS TABLE (tenant text, business_unit text, queued bigint, open bigint,
               available bigint, busy bigint, away bigint, offline bigint, used_slots bigint, free_slots bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT t.name, u.name,
        (SELECT count(*) FROM conversations c WHERE c.tenant_id = u.tenant_id AND c.unit_id = u.unit_id AND c.state = 'queued'),
        (SELECT count(*) FROM conversations c WHERE c.tenant_id = u.tenant_id AND c.unit_id = u.unit_id AND c.state IN ('assigned', 'active')),
        count(a.agent_id) FILTER (WHERE a.status = 'available'),
        count(a.agent_id) FILTER (WHERE a.status = 'busy'),
        count(a.agent_id) FILTER (WHERE a.status = 'away'),
        count(a.agent_id) FILTER (WHERE a.status = 'offline'),
        coalesce(sum(a.open_count) FILTER (WHERE a.status <> 'offline'), 0),
        coalesce(sum(greatest(a.capacity - a.open_count, 0)) FILTER (WHERE a.status = 'available'), 0)
    FROM business_units u
    JOIN tenants t ON t.tenant_id = u.tenant_id
    LEFT JOIN agent_units au ON au.tenant_id = u.tenant_id AND au.unit_id = u.unit_id
    LEFT JOIN agents a ON a.tenant_id = au.tenant_id AND a.agent_id = au.agent_id
    GROUP BY t.tenant_id, t.name, u.tenant_id, u.unit_id, u.name
$$;

-- sb_tenant_names lists the tenants that exist, so that the metrics of a deleted tenant
-- are dropped.
CREATE FUNCTION sb_tenant_names() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT name FROM tenants $$;
