-- One page of history as a JSON array text (times as ISO 8601 UTC, each row's cursor as
-- "created_us:id"). p_q is the user's search text in websearch syntax; it becomes a tsquery
-- here, never SQL. Notices (a search without words) are not sent to the client.
CREATE OR REPLACE FUNCTION history_page(p_forum text, p_state text, p_agent text, p_invoker text,
    p_decider text, p_from timestamptz, p_to timestamptz, p_q text, p_after_at timestamptz,
    p_after_id uuid, p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET client_min_messages = warning AS $$
DECLARE
    v_query tsquery := CASE WHEN p_q IS NOT NULL THEN websearch_to_tsquery('simple', p_q) END;
    v_modes record;
    v_after_at timestamptz := p_after_at;
    v_result text;
BEGIN
    v_modes := history_modes(p_forum, p_agent, p_invoker, p_decider);
    -- A cursor at or after `to` excludes nothing more, and a btree positions on the row bound
    -- rather than on the tighter `to`: leave the cursor out then.
    IF p_to IS NOT NULL AND p_to <= p_after_at THEN
        v_after_at := NULL;
    END IF;
    EXECUTE 'SELECT coalesce(json_agg(json_build_object('
        '''id'', p.id, ''forum'', p.forum, ''state'', p.state,'
        ' ''created_at'', to_char(p.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''),'
        ' ''decided_at'', to_char(p.decided_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''),'
        ' ''agent_id'', p.agent_id, ''agent_name'', p.agent_name,'
        ' ''invoker_id'', p.invoker_id, ''invoker_name'', p.invoker_name,'
        ' ''decided_by'', p.decided_by_name, ''decided_by_id'', p.decided_by_id,'
        ' ''topic_id'', p.topic_id, ''category'', p.category, ''title'', p.title,'
        ' ''excerpt'', p.excerpt, ''flags_count'', p.flags, ''post_url'', p.post_url,'
        ' ''cursor'', p.created_us::text || '':'' || p.id::text)'
        ' ORDER BY p.created_at DESC, p.id DESC), ''[]'')::text FROM ('
        || history_sql(p_state, v_modes.agent_mode, v_modes.invoker_mode, v_modes.decider_mode,
            p_from, p_to, v_query, v_after_at, p_limit, true)
        || ') p'
        INTO v_result
        USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query, p_after_at,
            p_after_id, p_limit;
    RETURN v_result;
END $$;
