-- Productivity objectives from ProductivityObjective resources, per tenant, named as the
-- resource is. Thresholds are kept in base units: seconds for time metrics, the number
-- itself otherwise.
CREATE TABLE objectives (
    tenant_id      uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    name           text NOT NULL,
    unit_id        uuid,
    agent_selector jsonb,
    metric         text NOT NULL,
    target         double precision NOT NULL,
    warning        double precision NOT NULL,
    critical       double precision NOT NULL,
    percent        integer,
    window_seconds integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);
ALTER TABLE objectives ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON objectives USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
