-- sb_agent_group_stats gives the metrics endpoint the agents grouped by the set of business
-- units they belong to (units: the units' names, sorted), by status, with the used and free
-- slots of those online, across tenants. sb_unit_stats counts an agent in each of its
-- units, so a board over several units would count an agent of two of them twice; a board
-- counts each group once instead (see services/board).
CREATE FUNCTION sb_agent_group_stats()
RETURNS TABLE (tenant text, units text[], available bigint, busy bigint, away bigint, offline bigint, used_slots bigint, free_slots bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT t.name, g.units,
        count(*) FILTER (WHERE g.status = 'available'),
        count(*) FILTER (WHERE g.status = 'busy'),
        count(*) FILTER (WHERE g.status = 'away'),
        count(*) FILTER (WHERE g.status = 'offline'),
        coalesce(sum(g.open_count) FILTER (WHERE g.status <> 'offline'), 0),
        coalesce(sum(greatest(g.capacity - g.open_count, 0)) FILTER (WHERE g.status = 'available'), 0)
    FROM (SELECT a.tenant_id, a.status, a.open_count, a.capacity, array_agg(u.name ORDER BY u.name) AS units
          FROM agents a
          JOIN agent_units au ON au.tenant_id = a.tenant_id AND au.agent_id = a.agent_id
          JOIN business_units u ON u.tenant_id = au.tenant_id AND u.unit_id = au.unit_id
          GROUP BY a.tenant_id, a.agent_id) g
    JOIN tenants t ON t.tenant_id = g.tenant_id
    GROUP BY t.tenant_id, t.name, g.units
$$;

-- Ratings are read by day.
CREATE INDEX ratings_rated_at ON ratings (tenant_id, rated_at);

-- sb_unit_ratings_today gives the metrics endpoint each business unit's ratings since
-- midnight in the unit's time zone (its business hours', else UTC), across tenants: those
-- satisfied (thumb up or CSAT 4–5, as the satisfaction objective counts) and not, and each
-- criterion's scores good (4–5) and poor. Read from the ratings themselves, the day's
-- figures survive a restart of the process, which counters do not.
CREATE FUNCTION sb_unit_ratings_today()
RETURNS TABLE (tenant text, business_unit text, satisfied bigint, unsatisfied bigint,
               welcome_good bigint, welcome_poor bigint, response_time_good bigint, response_time_poor bigint,
               quality_good bigint, quality_poor bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    WITH zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),
    units AS MATERIALIZED (
        SELECT u.tenant_id, u.unit_id, u.name, t.name AS tenant,
            date_trunc('day', now() AT TIME ZONE coalesce(z.name, 'UTC')) AT TIME ZONE coalesce(z.name, 'UTC') AS midnight
        FROM business_units u
        JOIN tenants t ON t.tenant_id = u.tenant_id
        LEFT JOIN zones z ON z.name = u.business_hours->>'timeZone'),
    -- Each tenant's ratings are read once, from its units' earliest midnight.
    rated AS (
        SELECT c.tenant_id, c.unit_id, r.rated_at, r.thumb, r.csat, r.welcome, r.response_time, r.quality
        FROM (SELECT tenant_id, min(midnight) AS since FROM units GROUP BY tenant_id) e
        JOIN ratings r ON r.tenant_id = e.tenant_id AND r.rated_at >= e.since
        JOIN conversations c ON c.tenant_id = r.tenant_id AND c.conversation_id = r.conversation_id)
    SELECT u.tenant, u.name,
        count(r.rated_at) FILTER (WHERE r.thumb = 'up' OR r.csat >= 4),
        count(r.rated_at) FILTER (WHERE NOT (coalesce(r.thumb = 'up', false) OR coalesce(r.csat >= 4, false))),
        count(r.welcome) FILTER (WHERE r.welcome >= 4), count(r.welcome) FILTER (WHERE r.welcome < 4),
        count(r.response_time) FILTER (WHERE r.response_time >= 4), count(r.response_time) FILTER (WHERE r.response_time < 4),
        count(r.quality) FILTER (WHERE r.quality >= 4), count(r.quality) FILTER (WHERE r.quality < 4)
    FROM units u
    LEFT JOIN rated r ON r.tenant_id = u.tenant_id AND r.unit_id = u.unit_id AND r.rated_at >= u.midnight
    GROUP BY u.tenant_id, u.tenant, u.unit_id, u.name
$$;

REVOKE ALL ON FUNCTION sb_agent_group_stats(), sb_unit_ratings_today() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sb_agent_group_stats(), sb_unit_ratings_today() TO switchboard_app;
