-- Visitors as people: the key a widget keeps so that the visitor is recognised on the next
-- visit, a profile (which makes the visitor a contact), visits in sessions with where they
-- came from, and the pages they viewed.

ALTER TABLE visitors
    -- key_hash is the SHA-256 of the visitor key the widget keeps; NULL for contacts entered by staff.
    ADD COLUMN key_hash       bytea,
    ADD COLUMN phone          text NOT NULL DEFAULT '',
    ADD COLUMN notes          text NOT NULL DEFAULT '',
    ADD COLUMN first_visit_at timestamptz,
    ADD COLUMN last_seen_at   timestamptz,
    ADD COLUMN visits         integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN is_contact     boolean GENERATED ALWAYS AS (name <> '' OR email <> '' OR phone <> '' OR notes <> '') STORED;
CREATE UNIQUE INDEX visitors_by_key ON visitors (tenant_id, key_hash) WHERE key_hash IS NOT NULL;
CREATE INDEX contacts_by_name ON visitors (tenant_id, lower(name), visitor_id) WHERE is_contact;

-- A session is one visit: it ends after 30 minutes without a page view.
CREATE TABLE visitor_sessions (
    tenant_id       uuid NOT NULL,
    session_id      uuid NOT NULL DEFAULT gen_random_uuid(),
    visitor_id      uuid NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    site            text NOT NULL DEFAULT '',
    referrer        text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    os              text NOT NULL DEFAULT '',
    os_version      text NOT NULL DEFAULT '',
    browser         text NOT NULL DEFAULT '',
    browser_version text NOT NULL DEFAULT '',
    device          text NOT NULL DEFAULT '',
    country         text NOT NULL DEFAULT '',
    page_views      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, session_id),
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors ON DELETE CASCADE
);
CREATE INDEX visitor_sessions_by_visitor ON visitor_sessions (tenant_id, visitor_id, started_at DESC);

-- page_views keeps the first pages of each session (the count goes on in visitor_sessions).
CREATE TABLE page_views (
    tenant_id  uuid NOT NULL,
    session_id uuid NOT NULL,
    n          integer NOT NULL,
    viewed_at  timestamptz NOT NULL DEFAULT now(),
    url        text NOT NULL,
    title      text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, session_id, n),
    FOREIGN KEY (tenant_id, session_id) REFERENCES visitor_sessions ON DELETE CASCADE
);

ALTER TABLE conversations ADD COLUMN session_id uuid;
ALTER TABLE conversations ADD FOREIGN KEY (tenant_id, session_id) REFERENCES visitor_sessions ON DELETE SET NULL (session_id);
CREATE INDEX conversations_by_visitor ON conversations (tenant_id, visitor_id, created_at DESC);

ALTER TABLE visitor_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON visitor_sessions USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());
ALTER TABLE page_views ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON page_views USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant());

-- Visitors who started conversations before this migration first visited then.
UPDATE visitors v SET first_visit_at = v.created_at, last_seen_at = v.created_at, visits = 1
 WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = v.tenant_id AND c.visitor_id = v.visitor_id);
