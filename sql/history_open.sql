-- Opens cursor p_cursor over every matching row, newest first, for an export that FETCHes it in
-- batches inside the caller's transaction: nothing is materialised. Its columns are the
-- export's, in order: draft_id, forum, state, created_at, decided_at (ISO 8601 UTC text),
-- agent_id, agent_name, invoker_id, invoker_name, decided_by, topic_id, category, title, flags
-- (the number of flags, an integer), post_url.
CREATE OR REPLACE FUNCTION history_open(p_cursor refcursor, p_forum text, p_state text, p_agent text,
    p_invoker text, p_decider text, p_from timestamptz, p_to timestamptz, p_q text)
RETURNS refcursor
LANGUAGE plpgsql STABLE
SET client_min_messages = warning AS $$
DECLARE
    v_query tsquery := CASE WHEN p_q IS NOT NULL THEN websearch_to_tsquery('simple', p_q) END;
    v_modes record;
BEGIN
    v_modes := history_modes(p_forum, p_agent, p_invoker, p_decider);
    OPEN p_cursor NO SCROLL FOR EXECUTE
        'SELECT p.id AS draft_id, p.forum, p.state,'
        ' to_char(p.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"'') AS created_at,'
        ' to_char(p.decided_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"'') AS decided_at,'
        ' p.agent_id, p.agent_name, p.invoker_id, p.invoker_name, p.decided_by_name AS decided_by,'
        ' p.topic_id, p.category, p.title, p.flags, p.post_url FROM ('
        || history_sql(p_state, v_modes.agent_mode, v_modes.invoker_mode, v_modes.decider_mode,
            p_from, p_to, v_query, NULL, NULL, false)
        || ') p ORDER BY p.created_at DESC, p.id DESC'
        USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query,
            NULL::timestamptz, NULL::uuid, NULL::integer;
    RETURN p_cursor;
END $$;
