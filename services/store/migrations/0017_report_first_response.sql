-- The first response of a conversation's agent is the time from the conversation's
-- assignment to that agent to the agent's first reply after it. Reports took the
-- conversation's first agent message instead, minus assigned_at: after a transfer,
-- assigned_at is the new agent's assignment while the first agent message is the previous
-- agent's, earlier, so the new agent's first response came out negative (the demo's
-- transfers gave an agent an average of -1 s).

-- sb_first_reply_at is the first agent message at or after assigned: the conversation's
-- first agent message when no transfer came between (no read), else the first one in its
-- events after the assignment. Only the assigned agent may write after it (messages need
-- the conversation active for its agent), so it is that agent's first reply.
CREATE FUNCTION sb_first_reply_at(p_tenant uuid, p_conversation uuid, p_assigned timestamptz, p_first_agent_message timestamptz)
RETURNS timestamptz
LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN p_assigned IS NULL OR p_first_agent_message IS NULL THEN NULL
        WHEN p_first_agent_message >= p_assigned THEN p_first_agent_message
        ELSE (SELECT min(e.created_at) FROM events e
               WHERE e.tenant_id = p_tenant AND e.conversation_id = p_conversation AND e.kind = 'message'
                 AND e.visibility = 'all' AND e.author_kind = 'agent' AND e.created_at >= p_assigned)
    END
$$;

CREATE OR REPLACE FUNCTION sb_report_facts(p_conversations uuid[])
RETURNS TABLE (hour timestamptz, unit_id uuid, agent_id uuid, conversations bigint, visitor_messages bigint,
               agent_messages bigint, first_response_sum double precision, first_response_count bigint,
               response_sum double precision, response_count bigint, unanswered bigint,
               handling_sum double precision, handling_count bigint)
LANGUAGE sql STABLE
AS $$
    WITH c AS (
        SELECT c.conversation_id, c.unit_id, coalesce(c.agent_id, '00000000-0000-0000-0000-000000000000') AS agent_id,
               c.created_at, c.assigned_at, c.closed_at, c.first_agent_message_at,
               sb_first_reply_at(c.tenant_id, c.conversation_id, c.assigned_at, c.first_agent_message_at) AS first_reply_at
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
               coalesce(extract(epoch FROM c.first_reply_at - c.assigned_at)::float8, 0) AS first_response_sum,
               (c.first_reply_at IS NOT NULL)::int::bigint AS first_response_count,
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

-- Conversations folded with a negative first response get the right one: the difference
-- is added to the hour's rows (conversations still queued are folded by the new function).
WITH fixed AS (
    SELECT c.tenant_id, date_trunc('hour', c.created_at, 'UTC') AS hour, c.unit_id,
           coalesce(c.agent_id, '00000000-0000-0000-0000-000000000000') AS agent_id,
           coalesce(extract(epoch FROM r.at - c.assigned_at)::float8, 0) - extract(epoch FROM c.first_agent_message_at - c.assigned_at)::float8 AS sum_change,
           (r.at IS NOT NULL)::int - 1 AS count_change
      FROM conversations c
      CROSS JOIN LATERAL (SELECT sb_first_reply_at(c.tenant_id, c.conversation_id, c.assigned_at, c.first_agent_message_at) AS at) r
     WHERE c.state = 'closed' AND c.first_agent_message_at < c.assigned_at
       AND NOT EXISTS (SELECT 1 FROM report_queue q WHERE q.tenant_id = c.tenant_id AND q.kind = 'conversation' AND q.ref = c.conversation_id)),
by_agent AS (
    UPDATE report_hours h SET first_response_sum = h.first_response_sum + f.sum_change,
                              first_response_count = h.first_response_count + f.count_change
      FROM (SELECT tenant_id, hour, unit_id, agent_id, sum(sum_change) AS sum_change, sum(count_change) AS count_change
              FROM fixed GROUP BY 1, 2, 3, 4) f
     WHERE h.tenant_id = f.tenant_id AND h.hour = f.hour AND h.unit_id = f.unit_id AND h.agent_id = f.agent_id)
UPDATE report_unit_hours h SET first_response_sum = h.first_response_sum + f.sum_change,
                               first_response_count = h.first_response_count + f.count_change
  FROM (SELECT tenant_id, hour, unit_id, sum(sum_change) AS sum_change, sum(count_change) AS count_change
          FROM fixed GROUP BY 1, 2, 3) f
 WHERE h.tenant_id = f.tenant_id AND h.hour = f.hour AND h.unit_id = f.unit_id;
