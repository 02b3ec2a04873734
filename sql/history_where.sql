-- The WHERE clause of a filtered history query over drafts `d`, as text built only from the
-- fixed fragments below: the arguments say which filters are present and, for an "id or name"
-- filter, which column it matches (history_modes()); values are never looked at here. Callers
-- bind the parameters in this order: $1 forum, $2 state, $3 agent (id or name), $4 invoker (id
-- or name), $5 decider (id or name), $6 from (inclusive), $7 to (exclusive), $8 the text query
-- (tsquery, not used here), $9 and $10 a keyset position (created_at, id): rows strictly
-- older, when p_after; $11 a row limit.
CREATE OR REPLACE FUNCTION history_where(p_state text, p_agent_mode text, p_invoker_mode text,
    p_decider_mode text, p_from timestamptz, p_to timestamptz, p_after boolean)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_where text := 'd.forum = $1';
BEGIN
    IF p_state IS NOT NULL THEN
        v_where := v_where || ' AND d.state = $2';
    END IF;
    v_where := v_where || CASE p_agent_mode
        WHEN 'id' THEN ' AND d.agent_id = $3'
        WHEN 'name' THEN ' AND d.agent_name = $3'
        WHEN 'both' THEN ' AND (d.agent_id = $3 OR d.agent_name = $3)'
        ELSE '' END;
    v_where := v_where || CASE p_invoker_mode
        WHEN 'id' THEN ' AND d.invoker_id = $4'
        WHEN 'name' THEN ' AND d.invoker_name = $4'
        WHEN 'both' THEN ' AND (d.invoker_id = $4 OR d.invoker_name = $4)'
        ELSE '' END;
    v_where := v_where || CASE p_decider_mode
        WHEN 'id' THEN ' AND d.decided_by_id = $5'
        WHEN 'name' THEN ' AND d.decided_by_name = $5'
        WHEN 'both' THEN ' AND (d.decided_by_id = $5 OR d.decided_by_name = $5)'
        ELSE '' END;
    IF p_from IS NOT NULL THEN
        v_where := v_where || ' AND d.created_at >= $6';
    END IF;
    IF p_to IS NOT NULL THEN
        v_where := v_where || ' AND d.created_at < $7';
    END IF;
    IF p_after THEN
        v_where := v_where || ' AND (d.created_at, d.id) < ($9, $10)';
    END IF;
    RETURN v_where;
END $$;
