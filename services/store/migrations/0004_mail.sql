-- Outgoing mail per tenant (transcripts): the tenant's SMTP relay, from its Tenant resource.
CREATE TABLE tenant_smtp (
    tenant_id    uuid PRIMARY KEY REFERENCES tenants ON DELETE CASCADE,
    host         text NOT NULL,
    port         integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    from_address text NOT NULL,
    username     text NOT NULL DEFAULT '',
    password     text NOT NULL DEFAULT ''
);
ALTER TABLE tenant_smtp ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_smtp USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
