-- For intake_hold: when an agent that has `p_admitted` admissions may not post again under a
-- limit of p_count per p_window, the time of the admission whose leaving the window frees the
-- next slot (admission p_admitted + 1 - p_count, still inside the window); NULL when it may
-- post (or there is no limit). PL/pgSQL rather than SQL so that the lookup's plan is kept for
-- the session: intake calls it twice per post.
CREATE OR REPLACE FUNCTION intake_rate_oldest(p_forum text, p_agent_id text, p_admitted bigint,
    p_count integer, p_window interval)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_at timestamptz;
BEGIN
    IF p_count <= 0 OR p_admitted < p_count THEN
        RETURN NULL;
    END IF;
    SELECT a.admitted_at INTO v_at FROM agent_admissions a
        WHERE a.agent_id = p_agent_id AND a.forum = p_forum AND a.seq = p_admitted - p_count + 1
          AND a.admitted_at > now() - p_window;
    RETURN v_at;
END $$;
