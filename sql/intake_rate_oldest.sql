-- For intake_hold: when an agent that has `p_admitted` admissions may not post again under a
-- limit of p_count per p_window, the time of the admission whose leaving the window frees the
-- next slot (admission p_admitted + 1 - p_count, still inside the window); NULL when it may
-- post (or there is no limit).
CREATE OR REPLACE FUNCTION intake_rate_oldest(p_forum text, p_agent_id text, p_admitted bigint,
    p_count integer, p_window interval)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT a.admitted_at FROM agent_admissions a
        WHERE p_count > 0 AND p_admitted >= p_count
          AND a.agent_id = p_agent_id AND a.forum = p_forum AND a.seq = p_admitted - p_count + 1
          AND a.admitted_at > now() - p_window;
$$;
