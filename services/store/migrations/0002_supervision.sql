-- Supervision: which supervisor may do what in which business unit, and the audit trail
-- of what supervisors did. Permissions are declared on BusinessUnit resources and keyed
-- by the supervisor's username, so they exist before the account does.

CREATE TABLE supervisor_units (
    tenant_id            uuid NOT NULL,
    unit_id              uuid NOT NULL,
    username             text NOT NULL,
    supervise            boolean NOT NULL DEFAULT false,
    supervise_open_chats boolean NOT NULL DEFAULT false,
    all_chats            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, unit_id, username),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);
CREATE INDEX supervisor_units_by_username ON supervisor_units (tenant_id, username);

CREATE TABLE audit_log (
    tenant_id       uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    audit_id        bigint GENERATED ALWAYS AS IDENTITY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    action          text NOT NULL,
    conversation_id uuid,
    detail          text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, audit_id)
);

ALTER TABLE supervisor_units ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON supervisor_units USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());

-- supervised_chats is each supervisor's "my supervised chats".
CREATE TABLE supervised_chats (
    tenant_id       uuid NOT NULL,
    username        text NOT NULL,
    conversation_id uuid NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, username, conversation_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE
);
ALTER TABLE supervised_chats ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON supervised_chats USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
