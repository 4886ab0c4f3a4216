-- Distinct visitors without deduplicating every visitor-day of a range.
--
-- 0012 keeps each visitor's first and last activity per UTC day and month; counting the
-- visitors of a month meant reading each of those rows. Now:
--
-- * report_visitor_day_counts and report_visitor_month_counts count the rows of each UTC
--   day and month; the folder bumps them when it inserts a row. A local day (or month)
--   overlaps at most two UTC ones, and its distinct visitors are those of the larger part,
--   the counter minus the rows whose activity lies wholly outside it (an index range on
--   first_at or last_at), plus the visitors of the smaller part absent from the larger one
--   (an index range and one primary-key look-up each). The work is proportional to the
--   rows active in the hours the zone's offset moves, none in UTC.
-- * prev_last_at is the visitor's last activity before the row's UTC day ('-infinity'
--   when none): the distinct visitors of a range are the rows active in it whose
--   prev_last_at is before the range starts (each visitor's first row in the range), read
--   day by day from an index on (day, prev_last_at).

ALTER TABLE report_visitor_days ADD COLUMN prev_last_at timestamptz NOT NULL DEFAULT '-infinity';

UPDATE report_visitor_days r SET prev_last_at = p.prev
  FROM (SELECT tenant_id, day, visitor_id, lag(last_at) OVER (PARTITION BY tenant_id, visitor_id ORDER BY day) AS prev
          FROM report_visitor_days) p
 WHERE r.tenant_id = p.tenant_id AND r.day = p.day AND r.visitor_id = p.visitor_id AND p.prev IS NOT NULL;

CREATE TABLE report_visitor_day_counts (
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    day       date NOT NULL,
    visitors  bigint NOT NULL,
    PRIMARY KEY (tenant_id, day)
);
CREATE TABLE report_visitor_month_counts (
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    month     date NOT NULL,
    visitors  bigint NOT NULL,
    PRIMARY KEY (tenant_id, month)
);
INSERT INTO report_visitor_day_counts (tenant_id, day, visitors)
SELECT tenant_id, day, count(*) FROM report_visitor_days GROUP BY 1, 2;
INSERT INTO report_visitor_month_counts (tenant_id, month, visitors)
SELECT tenant_id, month, count(*) FROM report_visitor_months GROUP BY 1, 2;

-- The edges of local periods, read index-only (the columns a count needs are included).
CREATE INDEX report_visitor_days_first_at ON report_visitor_days (tenant_id, day, first_at) INCLUDE (visitor_id);
CREATE INDEX report_visitor_days_last_at ON report_visitor_days (tenant_id, day, last_at) INCLUDE (visitor_id);
CREATE INDEX report_visitor_months_first_at ON report_visitor_months (tenant_id, month, first_at) INCLUDE (visitor_id);
CREATE INDEX report_visitor_months_last_at ON report_visitor_months (tenant_id, month, last_at) INCLUDE (visitor_id);
-- Each visitor's first row in a range, and the new visitors of a day.
CREATE INDEX report_visitor_days_prev ON report_visitor_days (tenant_id, day, prev_last_at) INCLUDE (first_at);
CREATE INDEX report_visitor_days_first_seen ON report_visitor_days (tenant_id, day, first_seen_at) INCLUDE (visitor_id, first_at, last_at);
-- A visitor's rows in day order: the folder's prev_last_at, whether the other UTC day of a
-- local one holds the visitor, and the activity not folded yet.
CREATE INDEX report_visitor_days_visitor ON report_visitor_days (tenant_id, visitor_id, day) INCLUDE (first_at, last_at);

ALTER TABLE report_visitor_day_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON report_visitor_day_counts USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
ALTER TABLE report_visitor_month_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON report_visitor_month_counts USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());

-- report_unit_hours: report_hours summed over agents, for the reports that do not choose
-- an agent (a year is about a sixth of the rows). The folder adds to both in one statement.
CREATE TABLE report_unit_hours (
    tenant_id            uuid NOT NULL,
    hour                 timestamptz NOT NULL,
    unit_id              uuid NOT NULL,
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
    PRIMARY KEY (tenant_id, hour, unit_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);
INSERT INTO report_unit_hours (tenant_id, hour, unit_id, conversations, visitor_messages, agent_messages, offline_messages,
    first_response_sum, first_response_count, response_sum, response_count, unanswered, handling_sum, handling_count)
SELECT tenant_id, hour, unit_id, sum(conversations), sum(visitor_messages), sum(agent_messages), sum(offline_messages),
       sum(first_response_sum), sum(first_response_count), sum(response_sum), sum(response_count), sum(unanswered),
       sum(handling_sum), sum(handling_count)
  FROM report_hours GROUP BY tenant_id, hour, unit_id;
ALTER TABLE report_unit_hours ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON report_unit_hours USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
