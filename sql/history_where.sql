-- The WHERE clause of a filtered history query over drafts `d`, as text built only from the
-- fixed fragments below: the arguments say which filters are present and, for an "id or name"
-- filter, which column it matches (history_modes()); values are never looked at here. Callers
-- bind the parameters in this order: $1 forum, $2 state, $3 agent (id or name), $4 invoker (id
-- or name), $5 decider (id or name), $6 from (inclusive), $7 to (exclusive), $8 the text query
-- (tsquery, not used here), $9 and $10 a keyset position (created_at, id): rows strictly
-- older, when p_after; $11 a row limit.
--
-- One filter a line; concat_ws() leaves out the absent ones (NULL). The three people filters
-- are one rule over a table of their columns.
CREATE OR REPLACE FUNCTION history_where(p_state text, p_agent_mode text, p_invoker_mode text,
    p_decider_mode text, p_from timestamptz, p_to timestamptz, p_after boolean)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(' AND ', 'd.forum = $1',
        CASE WHEN p_state IS NOT NULL THEN 'd.state = $2' END,
        (SELECT string_agg(CASE p.mode
                WHEN 'id' THEN p.id_column || ' = ' || p.param
                WHEN 'name' THEN p.name_column || ' = ' || p.param
                WHEN 'both' THEN '(' || p.id_column || ' = ' || p.param || ' OR '
                    || p.name_column || ' = ' || p.param || ')' END, ' AND ' ORDER BY p.param)
            FROM (VALUES (p_agent_mode, 'd.agent_id', 'd.agent_name', '$3'),
                (p_invoker_mode, 'd.invoker_id', 'd.invoker_name', '$4'),
                (p_decider_mode, 'd.decided_by_id', 'd.decided_by_name', '$5'))
                AS p (mode, id_column, name_column, param)),
        CASE WHEN p_from IS NOT NULL THEN 'd.created_at >= $6' END,
        CASE WHEN p_to IS NOT NULL THEN 'd.created_at < $7' END,
        CASE WHEN p_after THEN '(d.created_at, d.id) < ($9, $10)' END)
$$;
