-- Conversions and the agent table: API keys a tenant's backend calls with, the sales it
-- records (turnover and transactions per agent), the history of agents' statuses (presence
-- today), and the per-agent metrics opt-in.

-- api_keys are a tenant's backend credentials (`sbi.<tenant>.<secret>`); only the secret's
-- hash is kept. A revoked key stays as history; a name is taken by one live key at a time.
CREATE TABLE api_keys (
    tenant_id    uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    key_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (name ~ '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'),
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, key_id),
    UNIQUE (tenant_id, secret_hash)
);
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (tenant_id, name) WHERE revoked_at IS NULL;

-- conversions are sales a tenant's backend reports, attributed to a conversation, its agent
-- and its unit at the time of recording. order_id is the tenant's own and makes a resend
-- harmless. amount is numeric as sent (never float), so sums are exact.
CREATE TABLE conversions (
    tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    order_id        text NOT NULL CHECK (octet_length(order_id) BETWEEN 1 AND 200),
    amount          numeric NOT NULL CHECK (amount > 0 AND scale(amount) <= 4),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    conversation_id uuid NOT NULL,
    agent_id        uuid,
    unit_id         uuid NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE SET NULL (agent_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);
CREATE INDEX conversions_by_agent ON conversions (tenant_id, agent_id, occurred_at);
CREATE INDEX conversions_by_conversation ON conversions (tenant_id, conversation_id);
-- The agent table reads each agent's conversations of the day.
CREATE INDEX conversations_by_agent ON conversations (tenant_id, agent_id, assigned_at);

-- agent_status_intervals is each agent's status over time: one row per status held, the
-- current one open (ended_at NULL). A trigger on agents writes it, so every path that
-- changes a status (stream opened or closed, status chosen, presence expired) is recorded.
CREATE TABLE agent_status_intervals (
    tenant_id  uuid NOT NULL,
    agent_id   uuid NOT NULL,
    started_at timestamptz NOT NULL,
    status     text NOT NULL CHECK (status IN ('available', 'busy', 'away', 'offline')),
    ended_at   timestamptz,
    PRIMARY KEY (tenant_id, agent_id, started_at),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE CASCADE
);
CREATE UNIQUE INDEX agent_status_intervals_open ON agent_status_intervals (tenant_id, agent_id) WHERE ended_at IS NULL;
CREATE INDEX agent_status_intervals_by_end ON agent_status_intervals (tenant_id, agent_id, ended_at);

INSERT INTO agent_status_intervals (tenant_id, agent_id, started_at, status)
SELECT tenant_id, agent_id, status_changed_at, status FROM agents;

-- The trigger runs as the owner: the row it writes comes from the agent row being changed,
-- whoever changes it (the services in a tenant's transaction, or the operator).
CREATE FUNCTION sb_record_agent_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    at timestamptz := clock_timestamp();
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.status_changed_at IS DISTINCT FROM OLD.status_changed_at THEN
            at := NEW.status_changed_at;
        END IF;
        UPDATE agent_status_intervals SET ended_at = greatest(at, started_at)
        WHERE tenant_id = NEW.tenant_id AND agent_id = NEW.agent_id AND ended_at IS NULL;
        -- Two changes at the same instant: the later status replaces the earlier one; and
        -- the agent's history older than 400 days goes, so it stays bounded.
        DELETE FROM agent_status_intervals
        WHERE tenant_id = NEW.tenant_id AND agent_id = NEW.agent_id
          AND (started_at >= at OR ended_at < at - make_interval(days => 400));
    ELSE
        at := NEW.status_changed_at;
    END IF;
    INSERT INTO agent_status_intervals (tenant_id, agent_id, started_at, status)
    VALUES (NEW.tenant_id, NEW.agent_id, at, NEW.status);
    RETURN NULL;
END $$;

CREATE TRIGGER agents_status_history AFTER INSERT ON agents
FOR EACH ROW EXECUTE FUNCTION sb_record_agent_status();
CREATE TRIGGER agents_status_change AFTER UPDATE OF status ON agents
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION sb_record_agent_status();

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_keys', 'conversions', 'agent_status_intervals']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant())', t);
    END LOOP;
END $$;

-- sb_api_key checks an API key in one round trip, like sb_session: given the tenant (from
-- the key) and the secret's hash, it returns the live key's id and name, nothing else, and
-- notes the use at most once a minute.
CREATE FUNCTION sb_api_key(p_tenant uuid, p_secret_hash bytea) RETURNS TABLE (key_id uuid, name text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
AS $$
    WITH k AS (
        SELECT k.key_id, k.name, k.last_used_at FROM api_keys k
        WHERE k.tenant_id = p_tenant AND k.secret_hash = p_secret_hash AND k.revoked_at IS NULL
    ), used AS (
        UPDATE api_keys a SET last_used_at = now() FROM k
        WHERE a.tenant_id = p_tenant AND a.key_id = k.key_id
          AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
    )
    SELECT k.key_id, k.name FROM k
$$;

-- Tenant spec.perAgentMetrics: the metrics endpoint exports series per agent only for
-- tenants that opt in.
ALTER TABLE tenants ADD COLUMN per_agent_metrics boolean NOT NULL DEFAULT false;

-- sb_agent_stats gives the metrics endpoint each agent's status and open conversations,
-- for the tenants that opted in to per-agent metrics and no other.
CREATE FUNCTION sb_agent_stats()
RETURNS TABLE (tenant text, agent text, status text, open bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT t.name, a.name, a.status, a.open_count::bigint
    FROM tenants t JOIN agents a ON a.tenant_id = t.tenant_id
    WHERE t.per_agent_metrics
$$;

-- sb_per_agent_tenants names the tenants that opted in, so that series of a tenant that
-- opted out or was deleted are dropped.
CREATE FUNCTION sb_per_agent_tenants() RETURNS TABLE (tenant_id uuid, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.tenant_id, t.name FROM tenants t WHERE t.per_agent_metrics $$;

REVOKE ALL ON FUNCTION sb_api_key(uuid, bytea), sb_agent_stats(), sb_per_agent_tenants(), sb_record_agent_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sb_api_key(uuid, bytea), sb_agent_stats(), sb_per_agent_tenants() TO switchboard_app;
