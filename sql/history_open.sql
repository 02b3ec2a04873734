-- Opens cursor p_cursor over every draft of a forum that matches the filters, newest first, for
-- an export that FETCHes it in batches inside the caller's transaction: nothing is
-- materialised. Columns, in order: draft_id (uuid), forum, state, created_at, decided_at
-- (timestamptz), agent_id, agent_name, invoker_id, invoker_name, decided_by, decided_by_id,
-- topic_id, category, title (secrets masked), flags (the number of flags, an integer), post_url.
--
-- The drafts come from one ordered index range (as a page's do) and their titles from
-- draft_search's page-order index, which carries them (migration 0051): the two ranges are
-- in the same order, so a merge join reads each once, in order, with no lookup per row. The
-- caller's transaction turns hash joins, nested loops and sorts off, so that this is the plan
-- whatever the statistics say (db/history.c); with a text query, the text is tested on the
-- draft_search side of the merge.
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
        'SELECT d.id AS draft_id, d.forum, d.state, d.created_at, d.decided_at, d.agent_id,'
        ' d.agent_name, d.invoker_id, d.invoker_name, d.decided_by_name AS decided_by,'
        ' d.decided_by_id, d.topic_id, d.category,'
        ' CASE WHEN s.title IS NULL OR NOT d.flags @> ''[{"field": "title"}]'' THEN s.title'
        ' ELSE history_masked(s.title, d.flags, ''title'') END AS title,'
        ' jsonb_array_length(d.flags) AS flags, d.post_url'
        ' FROM drafts d JOIN draft_search s ON s.created_at = d.created_at AND s.draft_id = d.id'
        ' WHERE ' || history_where(p_state, v_modes.agent_mode, v_modes.invoker_mode,
            v_modes.decider_mode, p_from, p_to, false)
        || ' AND s.forum = $1'
        || CASE WHEN v_query IS NOT NULL THEN ' AND s.search @@ $8' ELSE '' END
        || ' ORDER BY d.created_at DESC, d.id DESC'
        USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query,
            NULL::timestamptz, NULL::uuid, NULL::integer;
    RETURN p_cursor;
END $$;
