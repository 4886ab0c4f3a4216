-- Sessions an admin can list and revoke, visitor tokens that end, and revocations that
-- reach every `serve` replica at once.
--
-- A staff session gets an id to be named by (its token's hash stays private), the client
-- that signed in and when it was last used, so that an admin tells a lost laptop's
-- session from the desk's.
ALTER TABLE sessions
    ADD COLUMN session_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN user_agent   text NOT NULL DEFAULT '',
    ADD COLUMN last_used_at timestamptz;
CREATE UNIQUE INDEX sessions_by_id ON sessions (tenant_id, session_id);
-- Listing an account's sessions, revoking them all, and the cascade when the account goes.
CREATE INDEX sessions_by_account ON sessions (tenant_id, account_id);

-- A visitor token works while its conversation is open and for a day after it closed: the
-- visitor rates it and reads the transcript in the tab the chat ran in, which may be left
-- open overnight; after that the token, kept in that tab's storage, only risks a leak.
-- NULL while the conversation is open; set when it closes (or is stored closed, as bulk
-- imports do).
ALTER TABLE conversations ADD COLUMN visitor_token_expires_at timestamptz;
UPDATE conversations SET visitor_token_expires_at = closed_at + interval '1 day' WHERE state = 'closed';

CREATE FUNCTION sb_visitor_token_ends() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.state = 'closed' AND NEW.visitor_token_expires_at IS NULL THEN
        NEW.visitor_token_expires_at := coalesce(NEW.closed_at, now()) + interval '1 day';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER conversations_visitor_token_ends BEFORE INSERT OR UPDATE OF state ON conversations
    FOR EACH ROW EXECUTE FUNCTION sb_visitor_token_ends();

-- Every replica caches checked tokens for seconds and keeps streams open for hours; a
-- change that ends a token early notifies channel switchboard_sessions, and each replica
-- forgets what it cached of that account (s), API key (k) or conversation (v) and checks
-- the streams opened with it again. The payload is "kind,tenant,id"; the trigger's
-- arguments are the kind and the column holding the id. Tokens that simply run out need
-- no notice: caches and streams know when they expire.
CREATE FUNCTION sb_token_ended() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE row jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN row := to_jsonb(OLD); ELSE row := to_jsonb(NEW); END IF;
    PERFORM pg_notify('switchboard_sessions', TG_ARGV[0] || ',' || (row->>'tenant_id') || ',' || (row->>TG_ARGV[1]));
    RETURN NULL;
END $$;

-- Sessions end when revoked (Logout, RevokeSessions, a password change), when their
-- expiry is moved earlier, and when they are deleted with their account.
CREATE TRIGGER sessions_revoked AFTER UPDATE OF revoked_at, expires_at ON sessions
    FOR EACH ROW WHEN ((NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL) OR NEW.expires_at < OLD.expires_at)
    EXECUTE FUNCTION sb_token_ended('s', 'account_id');
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND OLD.expires_at > now())
    EXECUTE FUNCTION sb_token_ended('s', 'account_id');
CREATE TRIGGER api_keys_revoked AFTER UPDATE OF revoked_at ON api_keys
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL)
    EXECUTE FUNCTION sb_token_ended('k', 'key_id');
-- Closing sets an expiry a day ahead, which needs no notice; only one moved to the past does.
CREATE TRIGGER conversations_visitor_token_expired AFTER UPDATE OF visitor_token_expires_at ON conversations
    FOR EACH ROW WHEN (NEW.visitor_token_expires_at <= now())
    EXECUTE FUNCTION sb_token_ended('v', 'conversation_id');

-- A new password signs the account out everywhere; a changed role or agent makes every
-- replica read the account again (its sessions stay).
CREATE FUNCTION sb_account_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        UPDATE sessions SET revoked_at = now()
        WHERE tenant_id = NEW.tenant_id AND account_id = NEW.account_id AND revoked_at IS NULL;
    ELSE
        PERFORM pg_notify('switchboard_sessions', 's,' || NEW.tenant_id || ',' || NEW.account_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_changed AFTER UPDATE OF password_hash, role, agent_id ON accounts
    FOR EACH ROW WHEN (NEW.password_hash IS DISTINCT FROM OLD.password_hash OR NEW.role IS DISTINCT FROM OLD.role
        OR NEW.agent_id IS DISTINCT FROM OLD.agent_id)
    EXECUTE FUNCTION sb_account_changed();

-- sb_session and sb_visitor_token now also say which session it is and until when the
-- token works; sb_session notes the session's use at most once a minute, like sb_api_key.
DROP FUNCTION sb_session(uuid, bytea);
CREATE FUNCTION sb_session(p_tenant uuid, p_token_hash bytea)
RETURNS TABLE (session_id uuid, account_id uuid, username text, display_name text, role text, agent_id uuid, agent_name text, expires_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
AS $$
    WITH s AS (
        SELECT s.session_id, s.account_id, s.expires_at, s.last_used_at FROM sessions s
        WHERE s.tenant_id = p_tenant AND s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
    ), used AS (
        UPDATE sessions u SET last_used_at = now() FROM s
        WHERE u.tenant_id = p_tenant AND u.token_hash = p_token_hash
          AND (s.last_used_at IS NULL OR s.last_used_at < now() - interval '1 minute')
    )
    SELECT s.session_id, ac.account_id, ac.username, ac.display_name, ac.role, ac.agent_id, coalesce(ag.name, ''), s.expires_at
    FROM s
    JOIN accounts ac ON ac.tenant_id = p_tenant AND ac.account_id = s.account_id
    LEFT JOIN agents ag ON ag.tenant_id = ac.tenant_id AND ag.agent_id = ac.agent_id
$$;

DROP FUNCTION sb_visitor_token(uuid, uuid);
CREATE FUNCTION sb_visitor_token(p_tenant uuid, p_conversation uuid)
RETURNS TABLE (token_hash bytea, visitor_id uuid, visitor_name text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT c.visitor_token_hash, v.visitor_id, v.name, c.visitor_token_expires_at FROM conversations c
      JOIN visitors v ON v.tenant_id = c.tenant_id AND v.visitor_id = c.visitor_id
      WHERE c.tenant_id = p_tenant AND c.conversation_id = p_conversation
        AND (c.visitor_token_expires_at IS NULL OR c.visitor_token_expires_at > now()) $$;

-- Ended sessions are kept a month (who signed in, when, with what, for an investigation)
-- and then deleted by sb_forget_sessions, which every replica runs now and then.
CREATE FUNCTION sb_forget_sessions() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
AS $$
    WITH gone AS (DELETE FROM sessions WHERE least(revoked_at, expires_at) < now() - interval '30 days' RETURNING 1)
    SELECT count(*) FROM gone
$$;

REVOKE ALL ON FUNCTION sb_session(uuid, bytea), sb_visitor_token(uuid, uuid), sb_forget_sessions(), sb_token_ended(),
    sb_account_changed(), sb_visitor_token_ends() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sb_session(uuid, bytea), sb_visitor_token(uuid, uuid), sb_forget_sessions() TO switchboard_app;
