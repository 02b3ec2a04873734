-- Sign-in and review: users, server-side sessions, single-use sign-in nonces, and the
-- transactions that decide, edit and delegate a draft. Each writes its audit event in the same
-- transaction as the change.

CREATE TABLE users (
    forum text NOT NULL,
    user_id text NOT NULL,
    username text NOT NULL,
    name text,
    email text,
    groups text[] NOT NULL DEFAULT '{}',
    is_moderator boolean NOT NULL DEFAULT false,
    first_sign_in_at timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (forum, user_id)
);
CREATE INDEX users_username ON users (forum, lower(username), last_sign_in_at DESC);

-- Only a SHA-256 of the session token is stored: a copy of this table signs nobody in.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    forum text NOT NULL,
    user_id text NOT NULL,
    username text NOT NULL,
    name text,
    groups text[] NOT NULL DEFAULT '{}',
    is_moderator boolean NOT NULL DEFAULT false,
    method text NOT NULL CHECK (method IN ('sso', 'proxy', 'dev')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    idle_timeout interval NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE sso_nonces (
    nonce_hash bytea PRIMARY KEY,
    forum text NOT NULL,
    return_to text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

-- Signs a user in: records the user, creates the session, audits. Returns nothing.
CREATE FUNCTION session_open(p_token_hash bytea, p_forum text, p_user_id text, p_username text,
    p_name text, p_email text, p_groups text[], p_is_moderator boolean, p_method text,
    p_lifetime interval, p_idle interval)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO users (forum, user_id, username, name, email, groups, is_moderator)
        VALUES (p_forum, p_user_id, p_username, p_name, p_email, p_groups, p_is_moderator)
        ON CONFLICT (forum, user_id) DO UPDATE SET username = EXCLUDED.username,
            name = EXCLUDED.name, email = EXCLUDED.email, groups = EXCLUDED.groups,
            is_moderator = EXCLUDED.is_moderator, last_sign_in_at = now();
    DELETE FROM sessions WHERE expires_at < now() - interval '1 day';
    INSERT INTO sessions (token_hash, forum, user_id, username, name, groups, is_moderator,
            method, expires_at, idle_timeout)
        VALUES (p_token_hash, p_forum, p_user_id, p_username, p_name, p_groups, p_is_moderator,
            p_method, now() + p_lifetime, p_idle);
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES ('user:' || p_user_id, 'auth.sign_in', p_forum,
            jsonb_build_object('user_id', p_user_id, 'username', p_username, 'method', p_method,
                'moderator', p_is_moderator));
END $$;

-- Finds a live session and notes it was used (at most once a minute, to spare writes).
CREATE FUNCTION session_touch(p_token_hash bytea)
RETURNS TABLE (forum text, user_id text, username text, name text, groups text[],
    is_moderator boolean, method text)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions s SET last_seen_at = now()
        WHERE s.token_hash = p_token_hash AND s.expires_at > now()
          AND s.last_seen_at + s.idle_timeout > now()
          AND s.last_seen_at < now() - interval '1 minute';
    RETURN QUERY SELECT s.forum, s.user_id, s.username, s.name, s.groups, s.is_moderator, s.method
        FROM sessions s
        WHERE s.token_hash = p_token_hash AND s.expires_at > now()
          AND s.last_seen_at + s.idle_timeout > now();
END $$;

CREATE FUNCTION session_close(p_token_hash bytea)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_session sessions%ROWTYPE;
BEGIN
    DELETE FROM sessions WHERE token_hash = p_token_hash RETURNING * INTO v_session;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES ('user:' || v_session.user_id, 'auth.sign_out', v_session.forum,
            jsonb_build_object('user_id', v_session.user_id, 'username', v_session.username));
    RETURN true;
END $$;

-- Consumes a sign-in nonce: true exactly once, within its lifetime.
CREATE FUNCTION sso_nonce_consume(p_nonce_hash bytea, OUT forum text, OUT return_to text)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sso_nonces n WHERE n.nonce_hash = p_nonce_hash AND n.expires_at > now()
        RETURNING n.forum, n.return_to INTO forum, return_to;
END $$;

-- Decides a pending draft. p_decision is 'approve' or 'reject'. The actor's right to decide
-- was judged by draft_access in C; it is checked again here under the row lock, because a
-- delegation may have changed since the page was read. Outcomes: 'decided', 'not_found',
-- 'not_pending', 'revision_changed', 'forbidden'.
CREATE FUNCTION draft_decide(p_id uuid, p_forum text, p_decision text, p_revision integer,
    p_actor_id text, p_actor_name text, p_reason text, p_source text)
RETURNS TABLE (outcome text, state text, revision integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_on_behalf_of text;
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF p_actor_id = v_draft.agent_id
       OR p_actor_id IS DISTINCT FROM v_draft.invoker_id
          AND p_actor_id IS DISTINCT FROM v_draft.delegate_id THEN
        RETURN QUERY SELECT 'forbidden'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF v_draft.state <> 'pending' THEN
        RETURN QUERY SELECT 'not_pending'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_revision IS NOT NULL AND p_revision <> v_draft.revision THEN
        RETURN QUERY SELECT 'revision_changed'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_actor_id IS DISTINCT FROM v_draft.invoker_id THEN
        v_on_behalf_of := v_draft.invoker_name;
    END IF;
    UPDATE drafts d SET state = CASE WHEN p_decision = 'approve' THEN 'approved' ELSE 'rejected' END,
            decided_at = now(), decided_by_id = p_actor_id, decided_by_name = p_actor_name,
            decision_reason = p_reason, updated_at = now()
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id,
            CASE WHEN p_decision = 'approve' THEN 'draft.approve' ELSE 'draft.reject' END,
            p_forum, p_id,
            jsonb_strip_nulls(jsonb_build_object('revision', v_draft.revision,
                'actor_name', p_actor_name, 'reason', p_reason,
                'on_behalf_of', v_on_behalf_of, 'source', p_source)));
    RETURN QUERY SELECT 'decided'::text,
        CASE WHEN p_decision = 'approve' THEN 'approved' ELSE 'rejected' END, v_draft.revision;
END $$;

-- Saves an edit as a new revision, audited with its diff. Outcomes as draft_decide, plus
-- 'edited' with the new revision.
CREATE FUNCTION draft_edit(p_id uuid, p_forum text, p_revision integer, p_title text,
    p_body text, p_actor_id text, p_actor_name text, p_diff jsonb, p_flags jsonb)
RETURNS TABLE (outcome text, state text, revision integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF p_actor_id = v_draft.agent_id
       OR p_actor_id IS DISTINCT FROM v_draft.invoker_id
          AND p_actor_id IS DISTINCT FROM v_draft.delegate_id THEN
        RETURN QUERY SELECT 'forbidden'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF v_draft.state <> 'pending' THEN
        RETURN QUERY SELECT 'not_pending'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_revision <> v_draft.revision THEN
        RETURN QUERY SELECT 'revision_changed'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    INSERT INTO draft_revisions (draft_id, revision, title, body, author_id, author_name)
        VALUES (p_id, v_draft.revision + 1, p_title, p_body, p_actor_id, p_actor_name);
    UPDATE drafts d SET revision = v_draft.revision + 1, flags = p_flags, updated_at = now()
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id, 'draft.edit', p_forum, p_id,
            jsonb_build_object('from_revision', v_draft.revision,
                'to_revision', v_draft.revision + 1, 'actor_name', p_actor_name,
                'diff', p_diff, 'flags', jsonb_array_length(p_flags)));
    RETURN QUERY SELECT 'edited'::text, v_draft.state, v_draft.revision + 1;
END $$;

-- Hands a pending draft to a colleague of the same forum, who then decides in the invoker's
-- place. Only the invoker delegates. Outcomes: 'delegated', 'not_found', 'forbidden',
-- 'not_pending', 'unknown_user'.
CREATE FUNCTION draft_delegate(p_id uuid, p_forum text, p_actor_id text, p_actor_name text,
    p_username text)
RETURNS TABLE (outcome text, delegate_id text, delegate_name text)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_user users%ROWTYPE;
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF p_actor_id IS DISTINCT FROM v_draft.invoker_id THEN
        RETURN QUERY SELECT 'forbidden'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF v_draft.state <> 'pending' THEN
        RETURN QUERY SELECT 'not_pending'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    SELECT * INTO v_user FROM users u
        WHERE u.forum = p_forum AND lower(u.username) = lower(p_username)
        ORDER BY u.last_sign_in_at DESC LIMIT 1;
    IF NOT FOUND OR v_user.user_id = v_draft.agent_id OR v_user.user_id = v_draft.invoker_id THEN
        RETURN QUERY SELECT 'unknown_user'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    UPDATE drafts d SET delegate_id = v_user.user_id, delegate_name = v_user.username,
            updated_at = now()
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id, 'draft.delegate', p_forum, p_id,
            jsonb_build_object('actor_name', p_actor_name, 'delegate_id', v_user.user_id,
                'delegate_name', v_user.username));
    RETURN QUERY SELECT 'delegated'::text, v_user.user_id, v_user.username;
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT, UPDATE ON users TO agentgate_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, sso_nonces TO agentgate_app;
        GRANT EXECUTE ON FUNCTION session_open, session_touch, session_close, sso_nonce_consume,
            draft_decide, draft_edit, draft_delegate TO agentgate_app;
    END IF;
END $$;
