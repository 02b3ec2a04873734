-- Signs a user in: records the user, creates the session, audits. Returns nothing. Also purges
-- up to 100 expired and 100 idle sessions (each through its index; SKIP LOCKED so concurrent
-- sign-ins do not wait on each other), so the table holds live sessions and few others.
CREATE OR REPLACE FUNCTION session_open(p_token_hash bytea, p_forum text, p_user_id text, p_username text,
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
    DELETE FROM sessions WHERE token_hash IN (
        SELECT s.token_hash FROM sessions s WHERE s.expires_at <= now()
            LIMIT 100 FOR UPDATE SKIP LOCKED);
    DELETE FROM sessions WHERE token_hash IN (
        SELECT s.token_hash FROM sessions s
            WHERE s.last_seen_at < now() - p_idle AND s.last_seen_at + s.idle_timeout <= now()
            LIMIT 100 FOR UPDATE SKIP LOCKED);
    INSERT INTO sessions (token_hash, forum, user_id, username, name, groups, is_moderator,
            method, expires_at, idle_timeout)
        VALUES (p_token_hash, p_forum, p_user_id, p_username, p_name, p_groups, p_is_moderator,
            p_method, now() + p_lifetime, p_idle);
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES ('user:' || p_user_id, 'auth.sign_in', p_forum,
            jsonb_build_object('user_id', p_user_id, 'username', p_username, 'method', p_method,
                'moderator', p_is_moderator));
END $$;
