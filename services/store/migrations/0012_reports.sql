-- Reports (daily, monthly, visitors, agents, interactions) read rollups, not the raw rows.
--
-- Writers never touch a shared counter: triggers append one row of their own to
-- report_queue when a conversation closes, an offline message is left, a visit starts or a
-- page is viewed, and a folder (store.FoldReports) moves queued rows into the rollups in
-- batches, deleting them in the same transaction, so every fact is counted exactly once.
-- A report reads, in one statement (one snapshot), the rollups plus what is still queued
-- plus the open conversations, so it is exact whether or not the folder has caught up.
--
-- A conversation is folded once, when it closes: until then its unit, agent and
-- messages may still change. It counts for the unit and agent it ended with.
--
-- Rollups are per UTC hour, so days in any time zone with a whole-hour offset are exact;
-- in a zone with a half- or quarter-hour offset an hour counts on the local day (and at
-- the local hour) its first minute falls in. Distinct visitors are exact in every zone:
-- a visitor's first and last activity of each UTC day (and month) are kept, and a UTC
-- day overlaps at most two local days, so those two instants name every local day the
-- visitor was active on.

-- Rollups go with their tenant and unit. They outlive the conversations they count (the
-- Tenant's retention deletes conversations, not the counts, which name no person).

-- report_queue holds what the rollups have not folded yet.
CREATE TABLE report_queue (
    tenant_id  uuid NOT NULL,
    queue_id   bigint GENERATED ALWAYS AS IDENTITY,
    kind       text NOT NULL CHECK (kind IN ('conversation', 'offline', 'visit', 'page_view')),
    -- ref is the conversation of a 'conversation' row.
    ref        uuid,
    unit_id    uuid,
    visitor_id uuid,
    at         timestamptz NOT NULL,
    -- page_views is the number of pages a row adds.
    page_views integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, queue_id),
    FOREIGN KEY (tenant_id) REFERENCES tenants ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);

-- report_hours: conversation and message figures per UTC hour, unit and agent (the nil
-- uuid for conversations no agent took, and for offline messages). Durations in seconds.
-- Conversation figures (started, first response, unanswered, handling) count at the hour
-- the conversation started; messages and response times at the hour they were written.
CREATE TABLE report_hours (
    tenant_id            uuid NOT NULL,
    hour                 timestamptz NOT NULL,
    unit_id              uuid NOT NULL,
    agent_id             uuid NOT NULL,
    conversations        bigint NOT NULL DEFAULT 0,
    visitor_messages     bigint NOT NULL DEFAULT 0,
    agent_messages       bigint NOT NULL DEFAULT 0,
    offline_messages     bigint NOT NULL DEFAULT 0,
    first_response_sum   double precision NOT NULL DEFAULT 0,
    first_response_count bigint NOT NULL DEFAULT 0,
    response_sum         double precision NOT NULL DEFAULT 0,
    response_count       bigint NOT NULL DEFAULT 0,
    unanswered           bigint NOT NULL DEFAULT 0,
    handling_sum         double precision NOT NULL DEFAULT 0,
    handling_count       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour, unit_id, agent_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);

-- report_traffic_hours: visits started and pages viewed per UTC hour, tenant-wide.
CREATE TABLE report_traffic_hours (
    tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    hour       timestamptz NOT NULL,
    visits     bigint NOT NULL DEFAULT 0,
    page_views bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour)
);

-- report_visitor_days and report_visitor_months: each visitor's first and last activity
-- (page view, visit or conversation started) in a UTC day and a UTC month, and when the
-- visitor was first seen, for counting distinct and new visitors in any time zone.
CREATE TABLE report_visitor_days (
    tenant_id     uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    day           date NOT NULL,
    visitor_id    uuid NOT NULL,
    first_at      timestamptz NOT NULL,
    last_at       timestamptz NOT NULL,
    first_seen_at timestamptz,
    PRIMARY KEY (tenant_id, day, visitor_id)
);
CREATE TABLE report_visitor_months (
    tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    month      date NOT NULL,
    visitor_id uuid NOT NULL,
    first_at   timestamptz NOT NULL,
    last_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, month, visitor_id)
);

-- Open conversations are read live by every report.
CREATE INDEX conversations_open ON conversations (tenant_id) WHERE state <> 'closed';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['report_queue', 'report_hours', 'report_traffic_hours', 'report_visitor_days', 'report_visitor_months']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant())', t);
    END LOOP;
END $$;

-- The triggers run as the writer, under row-level security, in the writer's transaction.
CREATE FUNCTION sb_report_queue_conversation() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO report_queue (tenant_id, kind, ref, unit_id, visitor_id, at)
    VALUES (NEW.tenant_id, 'conversation', NEW.conversation_id, NEW.unit_id, NEW.visitor_id, NEW.created_at);
    RETURN NULL;
END $$;
CREATE TRIGGER conversations_report_closed AFTER UPDATE OF state ON conversations
    FOR EACH ROW WHEN (NEW.state = 'closed' AND OLD.state <> 'closed') EXECUTE FUNCTION sb_report_queue_conversation();
-- Conversations stored closed (imports, seeded history) are queued too.
CREATE TRIGGER conversations_report_inserted_closed AFTER INSERT ON conversations
    FOR EACH ROW WHEN (NEW.state = 'closed') EXECUTE FUNCTION sb_report_queue_conversation();

CREATE FUNCTION sb_report_queue_offline() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO report_queue (tenant_id, kind, unit_id, at) VALUES (NEW.tenant_id, 'offline', NEW.unit_id, NEW.created_at);
    RETURN NULL;
END $$;
CREATE TRIGGER offline_messages_report AFTER INSERT ON offline_messages
    FOR EACH ROW EXECUTE FUNCTION sb_report_queue_offline();

CREATE FUNCTION sb_report_queue_visit() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_queue (tenant_id, kind, visitor_id, at, page_views)
        VALUES (NEW.tenant_id, 'visit', NEW.visitor_id, NEW.started_at, NEW.page_views);
    ELSE
        INSERT INTO report_queue (tenant_id, kind, visitor_id, at, page_views)
        VALUES (NEW.tenant_id, 'page_view', NEW.visitor_id, NEW.last_seen_at, NEW.page_views - OLD.page_views);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER visitor_sessions_report_started AFTER INSERT ON visitor_sessions
    FOR EACH ROW EXECUTE FUNCTION sb_report_queue_visit();
CREATE TRIGGER visitor_sessions_report_viewed AFTER UPDATE OF page_views ON visitor_sessions
    FOR EACH ROW WHEN (NEW.page_views > OLD.page_views) EXECUTE FUNCTION sb_report_queue_visit();

-- sb_report_facts computes the report_hours figures of some conversations of the current
-- tenant from their rows and events; the folder stores them, reports add them for
-- conversations not folded yet. Response time: for each agent reply, the time since the
-- first visitor message after the previous agent reply (a reply with no visitor message
-- before it since the last one counts no time). Whispers and system events do not count.
CREATE FUNCTION sb_report_facts(p_conversations uuid[])
RETURNS TABLE (hour timestamptz, unit_id uuid, agent_id uuid, conversations bigint, visitor_messages bigint,
               agent_messages bigint, first_response_sum double precision, first_response_count bigint,
               response_sum double precision, response_count bigint, unanswered bigint,
               handling_sum double precision, handling_count bigint)
LANGUAGE sql STABLE
AS $$
    WITH c AS (
        SELECT c.conversation_id, c.unit_id, coalesce(c.agent_id, '00000000-0000-0000-0000-000000000000') AS agent_id,
               c.created_at, c.assigned_at, c.closed_at, c.first_agent_message_at
          FROM conversations c
         WHERE c.tenant_id = sb_current_tenant() AND c.conversation_id = ANY (p_conversations)),
    m AS (
        SELECT e.conversation_id, e.created_at, e.author_kind,
               count(*) FILTER (WHERE e.author_kind = 'agent')
                   OVER (PARTITION BY e.conversation_id ORDER BY e.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS replies_before
          FROM events e
         WHERE e.tenant_id = sb_current_tenant() AND e.conversation_id = ANY (p_conversations)
           AND e.kind = 'message' AND e.visibility = 'all' AND e.author_kind IN ('visitor', 'agent')),
    w AS (
        SELECT m.*, min(m.created_at) FILTER (WHERE m.author_kind = 'visitor')
                   OVER (PARTITION BY m.conversation_id, m.replies_before) AS waiting_since
          FROM m),
    facts AS (
        SELECT date_trunc('hour', c.created_at, 'UTC') AS hour, c.unit_id, c.agent_id,
               1::bigint AS conversations, 0::bigint AS visitor_messages, 0::bigint AS agent_messages,
               coalesce(extract(epoch FROM c.first_agent_message_at - c.assigned_at)::float8, 0) AS first_response_sum,
               (c.first_agent_message_at IS NOT NULL AND c.assigned_at IS NOT NULL)::int::bigint AS first_response_count,
               0::float8 AS response_sum, 0::bigint AS response_count,
               (c.closed_at IS NOT NULL AND c.first_agent_message_at IS NULL)::int::bigint AS unanswered,
               coalesce(extract(epoch FROM c.closed_at - c.assigned_at)::float8, 0) AS handling_sum,
               (c.closed_at IS NOT NULL AND c.assigned_at IS NOT NULL)::int::bigint AS handling_count
          FROM c
        UNION ALL
        SELECT date_trunc('hour', w.created_at, 'UTC'), c.unit_id, c.agent_id, 0,
               (w.author_kind = 'visitor')::int, (w.author_kind = 'agent')::int, 0, 0,
               CASE WHEN w.author_kind = 'agent' AND w.waiting_since IS NOT NULL THEN extract(epoch FROM w.created_at - w.waiting_since)::float8 ELSE 0 END,
               (w.author_kind = 'agent' AND w.waiting_since IS NOT NULL)::int, 0, 0, 0
          FROM w JOIN c ON c.conversation_id = w.conversation_id)
    SELECT f.hour, f.unit_id, f.agent_id, sum(f.conversations)::bigint, sum(f.visitor_messages)::bigint, sum(f.agent_messages)::bigint,
           sum(f.first_response_sum), sum(f.first_response_count)::bigint, sum(f.response_sum), sum(f.response_count)::bigint,
           sum(f.unanswered)::bigint, sum(f.handling_sum), sum(f.handling_count)::bigint
      FROM facts f
     GROUP BY f.hour, f.unit_id, f.agent_id
$$;

-- What was stored before this migration is queued once, so that reports cover it.
-- Page views of earlier visits count at the visit's start.
INSERT INTO report_queue (tenant_id, kind, ref, unit_id, visitor_id, at)
SELECT tenant_id, 'conversation', conversation_id, unit_id, visitor_id, created_at FROM conversations WHERE state = 'closed';
INSERT INTO report_queue (tenant_id, kind, unit_id, at)
SELECT tenant_id, 'offline', unit_id, created_at FROM offline_messages;
INSERT INTO report_queue (tenant_id, kind, visitor_id, at, page_views)
SELECT tenant_id, 'visit', visitor_id, started_at, page_views FROM visitor_sessions;
