-- Signals: a productivity objective missed by a conversation (live, from its thresholds) or
-- by a unit or tenant (an alert from Prometheus through Alertmanager). A signal is active
-- until cleared_at is set; cleared rows are the history.
CREATE TABLE signals (
    tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    signal_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    objective       text NOT NULL,
    metric          text NOT NULL,
    level           text NOT NULL CHECK (level IN ('warning', 'critical')),
    source          text NOT NULL CHECK (source IN ('live', 'alert')),
    -- subject names what misses the objective, e.g. 'conversation:<id>' or 'unit:<id>',
    -- so that one subject has at most one active signal per objective.
    subject         text NOT NULL,
    conversation_id uuid,
    agent_id        uuid,
    unit_id         uuid,
    value           double precision NOT NULL,
    threshold       double precision NOT NULL,
    summary         text NOT NULL DEFAULT '',
    raised_at       timestamptz NOT NULL DEFAULT now(),
    cleared_at      timestamptz,
    PRIMARY KEY (tenant_id, signal_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE SET NULL (agent_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);
-- Replicas that raise the same signal at the same time store it once.
CREATE UNIQUE INDEX signals_active ON signals (tenant_id, objective, subject) WHERE cleared_at IS NULL;
CREATE INDEX signals_by_time ON signals (tenant_id, raised_at DESC, signal_id);
CREATE INDEX signals_by_conversation ON signals (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
ALTER TABLE signals ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON signals USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());

-- An agent's labels (its AgentCapacity's), which objectives' agent selectors match.
ALTER TABLE agents ADD COLUMN labels jsonb NOT NULL DEFAULT '{}';
