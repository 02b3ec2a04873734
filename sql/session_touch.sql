-- Finds a live session and notes it was used (at most once a minute, to spare writes).
CREATE OR REPLACE FUNCTION session_touch(p_token_hash bytea)
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
