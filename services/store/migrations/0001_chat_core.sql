-- Chat core: tenants, business units, agents with capacity, accounts and sessions,
-- visitors, conversations with their ordered events, ratings, drafts, offline messages.
--
-- Pooled tenancy: every table carries tenant_id and every key starts with it. Row-level
-- security scopes every row to the tenant set for the transaction
-- (set_config('switchboard.tenant_id', ..., true)); the application role owns no table,
-- so the policies always apply to it. A session that set no tenant sees nothing.

CREATE FUNCTION sb_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('switchboard.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    tenant_id    uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    display_name text NOT NULL DEFAULT '',
    widget_key   text NOT NULL UNIQUE,
    suspended    boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE business_units (
    tenant_id                uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    unit_id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    name                     text NOT NULL,
    display_name             text NOT NULL DEFAULT '',
    accepts_offline_messages boolean NOT NULL DEFAULT true,
    inactivity_seconds       integer NOT NULL DEFAULT 300 CHECK (inactivity_seconds > 0),
    PRIMARY KEY (tenant_id, unit_id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE agents (
    tenant_id         uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    agent_id          uuid NOT NULL DEFAULT gen_random_uuid(),
    name              text NOT NULL,
    display_name      text NOT NULL DEFAULT '',
    capacity          integer NOT NULL CHECK (capacity BETWEEN 0 AND 50),
    -- chosen_status is what the agent picked; status is what routing sees: the chosen
    -- status while the agent has a stream open somewhere, offline otherwise.
    chosen_status     text NOT NULL DEFAULT 'available' CHECK (chosen_status IN ('available', 'busy', 'away')),
    status            text NOT NULL DEFAULT 'offline' CHECK (status IN ('available', 'busy', 'away', 'offline')),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    -- open_count is the number of assigned or active conversations; routing raises it only
    -- below capacity, under the row's lock, so capacity is never exceeded.
    open_count        integer NOT NULL DEFAULT 0 CHECK (open_count >= 0),
    last_assigned_at  timestamptz NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (tenant_id, agent_id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE agent_units (
    tenant_id uuid NOT NULL,
    unit_id   uuid NOT NULL,
    agent_id  uuid NOT NULL,
    PRIMARY KEY (tenant_id, unit_id, agent_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE CASCADE
);
CREATE INDEX agent_units_by_agent ON agent_units (tenant_id, agent_id);

-- agent_presence counts an agent's open streams per serving replica; a replica refreshes
-- its rows while it lives, so rows of a replica that died expire.
CREATE TABLE agent_presence (
    tenant_id  uuid NOT NULL,
    agent_id   uuid NOT NULL,
    replica_id uuid NOT NULL,
    streams    integer NOT NULL CHECK (streams > 0),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, replica_id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE CASCADE
);
CREATE INDEX agent_presence_by_replica ON agent_presence (replica_id);

CREATE TABLE accounts (
    tenant_id     uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    account_id    uuid NOT NULL DEFAULT gen_random_uuid(),
    username      text NOT NULL,
    password_hash text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    agent_id      uuid,
    PRIMARY KEY (tenant_id, account_id),
    UNIQUE (tenant_id, username),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE CASCADE,
    CHECK ((role = 'agent') = (agent_id IS NOT NULL))
);

CREATE TABLE sessions (
    tenant_id  uuid NOT NULL,
    token_hash bytea NOT NULL,
    account_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts ON DELETE CASCADE
);

CREATE TABLE visitors (
    tenant_id  uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    visitor_id uuid NOT NULL DEFAULT gen_random_uuid(),
    name       text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, visitor_id)
);

CREATE TABLE conversations (
    tenant_id               uuid NOT NULL,
    conversation_id         uuid NOT NULL DEFAULT gen_random_uuid(),
    unit_id                 uuid NOT NULL,
    visitor_id              uuid NOT NULL,
    agent_id                uuid,
    state                   text NOT NULL CHECK (state IN ('queued', 'assigned', 'active', 'closed')),
    visitor_token_hash      bytea NOT NULL,
    page_url                text NOT NULL DEFAULT '',
    last_seq                bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    queued_at               timestamptz NOT NULL DEFAULT now(),
    assigned_at             timestamptz,
    accepted_at             timestamptz,
    closed_at               timestamptz,
    last_activity_at        timestamptz NOT NULL DEFAULT now(),
    last_visitor_message_at timestamptz,
    last_agent_message_at   timestamptz,
    first_agent_message_at  timestamptz,
    PRIMARY KEY (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, visitor_id) REFERENCES visitors ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents ON DELETE SET NULL (agent_id),
    CHECK (state <> 'queued' OR agent_id IS NULL),
    CHECK (state NOT IN ('assigned', 'active') OR agent_id IS NOT NULL)
);
CREATE INDEX conversations_queue ON conversations (tenant_id, unit_id, queued_at) WHERE state = 'queued';
CREATE INDEX conversations_open_by_agent ON conversations (tenant_id, agent_id) WHERE state IN ('assigned', 'active');

-- events are a conversation's messages and system events, numbered 1, 2, 3… by the
-- conversation's last_seq, which the writer raises under the conversation's row lock.
CREATE TABLE events (
    tenant_id         uuid NOT NULL,
    conversation_id   uuid NOT NULL,
    seq               bigint NOT NULL CHECK (seq > 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    author_kind       text NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'supervisor', 'system')),
    author_id         text NOT NULL DEFAULT '',
    author_name       text NOT NULL DEFAULT '',
    kind              text NOT NULL CHECK (kind IN ('message', 'system')),
    -- visibility 'all' reaches the visitor; 'staff' never does.
    visibility        text NOT NULL DEFAULT 'all' CHECK (visibility IN ('all', 'staff')),
    client_message_id text,
    body              text NOT NULL DEFAULT '',
    system_kind       text,
    agent_name        text NOT NULL DEFAULT '',
    unit_name         text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, conversation_id, seq),
    UNIQUE (tenant_id, conversation_id, client_message_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE,
    CHECK ((kind = 'message') = (client_message_id IS NOT NULL)),
    CHECK ((kind = 'system') = (system_kind IS NOT NULL))
);

CREATE TABLE drafts (
    tenant_id       uuid NOT NULL,
    conversation_id uuid NOT NULL,
    author_kind     text NOT NULL CHECK (author_kind IN ('visitor', 'agent')),
    author_id       text NOT NULL,
    author_name     text NOT NULL DEFAULT '',
    body            text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, conversation_id, author_kind),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE
);

CREATE TABLE ratings (
    tenant_id       uuid NOT NULL,
    conversation_id uuid NOT NULL,
    thumb           text CHECK (thumb IN ('up', 'down')),
    csat            smallint CHECK (csat BETWEEN 1 AND 5),
    welcome         smallint CHECK (welcome BETWEEN 1 AND 5),
    response_time   smallint CHECK (response_time BETWEEN 1 AND 5),
    quality         smallint CHECK (quality BETWEEN 1 AND 5),
    comment         text NOT NULL DEFAULT '',
    rated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, conversation_id),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations ON DELETE CASCADE
);

CREATE TABLE offline_messages (
    tenant_id          uuid NOT NULL,
    offline_message_id uuid NOT NULL DEFAULT gen_random_uuid(),
    unit_id            uuid NOT NULL,
    name               text NOT NULL DEFAULT '',
    email              text NOT NULL DEFAULT '',
    body               text NOT NULL,
    page_url           text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, offline_message_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES business_units ON DELETE CASCADE
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'business_units', 'agents', 'agent_units', 'agent_presence',
        'accounts', 'sessions', 'visitors', 'conversations', 'events', 'drafts', 'ratings', 'offline_messages']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = sb_current_tenant()) WITH CHECK (tenant_id = sb_current_tenant())', t);
    END LOOP;
END $$;

-- The only ways to find a tenant before its id is known: by its public widget key (visitors)
-- and by its name (sign-in). They run as the owner and return the id and nothing else.
CREATE FUNCTION sb_tenant_by_widget_key(p_widget_key text) RETURNS TABLE (tenant_id uuid, suspended boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.tenant_id, t.suspended FROM tenants t WHERE t.widget_key = p_widget_key $$;

CREATE FUNCTION sb_tenant_by_name(p_name text) RETURNS TABLE (tenant_id uuid, suspended boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.tenant_id, t.suspended FROM tenants t WHERE t.name = p_name $$;

-- sb_tenant_ids lists tenants for per-tenant housekeeping (presence expiry) and nothing else.
CREATE FUNCTION sb_tenant_ids() RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT t.tenant_id FROM tenants t $$;

-- Visitor tokens and staff sessions are checked on every call a cache does not answer, in
-- one round trip each: given the tenant (from the token) and the conversation or token
-- hash, they return the stored hash or the session's account, nothing else.
CREATE FUNCTION sb_visitor_token(p_tenant uuid, p_conversation uuid)
RETURNS TABLE (token_hash bytea, visitor_id uuid, visitor_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT c.visitor_token_hash, v.visitor_id, v.name FROM conversations c
      JOIN visitors v ON v.tenant_id = c.tenant_id AND v.visitor_id = c.visitor_id
      WHERE c.tenant_id = p_tenant AND c.conversation_id = p_conversation $$;

CREATE FUNCTION sb_session(p_tenant uuid, p_token_hash bytea)
RETURNS TABLE (account_id uuid, username text, display_name text, role text, agent_id uuid, agent_name text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT ac.account_id, ac.username, ac.display_name, ac.role, ac.agent_id, coalesce(ag.name, ''), s.expires_at
      FROM sessions s
      JOIN accounts ac ON ac.tenant_id = s.tenant_id AND ac.account_id = s.account_id
      LEFT JOIN agents ag ON ag.tenant_id = ac.tenant_id AND ag.agent_id = ac.agent_id
      WHERE s.tenant_id = p_tenant AND s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now() $$;

-- sb_append_message stores one message in a single round trip and reports the outcome.
--
-- The usual case is one statement: the UPDATE takes the conversation's row lock, checks
-- that it is open (and, for an agent, active and its own), raises last_seq; the INSERT
-- stores the event; the author's draft goes with it. A resent client_message_id breaks the
-- unique key and fails that statement; the caller then asks again with p_checked, and the
-- careful path below finds the stored message. It also says why nothing was stored when
-- the usual case matched no conversation. It runs as the caller, under row-level
-- security, for the tenant it sets for its transaction.
CREATE FUNCTION sb_append_message(
    p_tenant uuid, p_conversation uuid, p_author_kind text, p_author_id text, p_author_name text,
    p_agent uuid, p_client_message_id text, p_body text, p_visibility text, p_checked boolean)
RETURNS TABLE (outcome text, seq bigint, created_at timestamptz, author_kind text, author_id text,
               author_name text, visibility text, body text, draft_cleared boolean)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    c record;
    e record;
    v_seq bigint;
    v_cleared boolean;
    v_now timestamptz := clock_timestamp();
BEGIN
    PERFORM set_config('switchboard.tenant_id', p_tenant::text, true);
    IF NOT p_checked THEN
        WITH cv AS (
            UPDATE conversations cv
               SET last_seq = cv.last_seq + 1,
                   last_activity_at = v_now,
                   last_visitor_message_at = CASE WHEN p_author_kind = 'visitor' THEN v_now ELSE cv.last_visitor_message_at END,
                   last_agent_message_at = CASE WHEN p_author_kind = 'agent' THEN v_now ELSE cv.last_agent_message_at END,
                   first_agent_message_at = CASE WHEN p_author_kind = 'agent' THEN coalesce(cv.first_agent_message_at, v_now) ELSE cv.first_agent_message_at END
             WHERE cv.tenant_id = p_tenant AND cv.conversation_id = p_conversation AND cv.state <> 'closed'
               AND (p_agent IS NULL OR (cv.agent_id = p_agent AND cv.state = 'active'))
            RETURNING cv.last_seq),
        d AS (
            DELETE FROM drafts dr
             WHERE dr.tenant_id = p_tenant AND dr.conversation_id = p_conversation AND dr.author_kind = p_author_kind
               AND EXISTS (SELECT 1 FROM cv)
            RETURNING 1)
        INSERT INTO events (tenant_id, conversation_id, seq, created_at, author_kind, author_id, author_name,
                            kind, visibility, client_message_id, body)
        SELECT p_tenant, p_conversation, cv.last_seq, v_now, p_author_kind, p_author_id, p_author_name,
               'message', p_visibility, p_client_message_id, p_body FROM cv
        RETURNING seq, EXISTS (SELECT 1 FROM d) INTO v_seq, v_cleared;
        IF v_seq IS NOT NULL THEN
            RETURN QUERY SELECT 'stored'::text, v_seq, v_now, p_author_kind, p_author_id, p_author_name, p_visibility, p_body, v_cleared;
            RETURN;
        END IF;
    END IF;

    SELECT cv.state, cv.agent_id, cv.last_seq INTO c
      FROM conversations cv
     WHERE cv.tenant_id = p_tenant AND cv.conversation_id = p_conversation
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, 0::bigint, NULL::timestamptz, ''::text, ''::text, ''::text, ''::text, ''::text, false;
        RETURN;
    END IF;
    SELECT ev.seq, ev.created_at, ev.author_kind, ev.author_id, ev.author_name, ev.visibility, ev.body INTO e
      FROM events ev
     WHERE ev.tenant_id = p_tenant AND ev.conversation_id = p_conversation
       AND ev.client_message_id = p_client_message_id;
    IF FOUND THEN
        IF e.author_kind <> p_author_kind OR e.author_id <> p_author_id THEN
            RETURN QUERY SELECT 'id_taken'::text, 0::bigint, NULL::timestamptz, ''::text, ''::text, ''::text, ''::text, ''::text, false;
        ELSE
            RETURN QUERY SELECT 'duplicate'::text, e.seq, e.created_at, e.author_kind, e.author_id, e.author_name, e.visibility, e.body, false;
        END IF;
        RETURN;
    END IF;
    IF c.state = 'closed' THEN
        RETURN QUERY SELECT 'closed'::text, 0::bigint, NULL::timestamptz, ''::text, ''::text, ''::text, ''::text, ''::text, false;
        RETURN;
    END IF;
    IF p_agent IS NOT NULL THEN
        IF c.agent_id IS DISTINCT FROM p_agent THEN
            RETURN QUERY SELECT 'not_yours'::text, 0::bigint, NULL::timestamptz, ''::text, ''::text, ''::text, ''::text, ''::text, false;
            RETURN;
        END IF;
        IF c.state <> 'active' THEN
            RETURN QUERY SELECT 'not_accepted'::text, 0::bigint, NULL::timestamptz, ''::text, ''::text, ''::text, ''::text, ''::text, false;
            RETURN;
        END IF;
    END IF;
    v_seq := c.last_seq + 1;
    UPDATE conversations cv
       SET last_seq = v_seq,
           last_activity_at = v_now,
           last_visitor_message_at = CASE WHEN p_author_kind = 'visitor' THEN v_now ELSE cv.last_visitor_message_at END,
           last_agent_message_at = CASE WHEN p_author_kind = 'agent' THEN v_now ELSE cv.last_agent_message_at END,
           first_agent_message_at = CASE WHEN p_author_kind = 'agent' THEN coalesce(cv.first_agent_message_at, v_now) ELSE cv.first_agent_message_at END
     WHERE cv.tenant_id = p_tenant AND cv.conversation_id = p_conversation;
    INSERT INTO events (tenant_id, conversation_id, seq, created_at, author_kind, author_id, author_name,
                        kind, visibility, client_message_id, body)
    VALUES (p_tenant, p_conversation, v_seq, v_now, p_author_kind, p_author_id, p_author_name,
            'message', p_visibility, p_client_message_id, p_body);
    DELETE FROM drafts d WHERE d.tenant_id = p_tenant AND d.conversation_id = p_conversation AND d.author_kind = p_author_kind;
    RETURN QUERY SELECT 'stored'::text, v_seq, v_now, p_author_kind, p_author_id, p_author_name, p_visibility, p_body, FOUND;
END $$;
