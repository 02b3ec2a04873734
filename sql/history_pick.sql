-- The first p_limit of p_ids (draft ids, newest first) that pass the people filters (agent,
-- invoker, decider: history_where(), modes from history_modes()), in order: one drafts lookup
-- per id, by primary key. Without people filters, simply the first p_limit.
CREATE OR REPLACE FUNCTION history_pick(p_forum text, p_ids uuid[], p_agent text,
    p_invoker text, p_decider text, p_agent_mode text, p_invoker_mode text,
    p_decider_mode text, p_limit integer)
RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_ids uuid[];
BEGIN
    IF p_agent_mode IS NULL AND p_invoker_mode IS NULL AND p_decider_mode IS NULL THEN
        RETURN coalesce(p_ids[1:p_limit], '{}');
    END IF;
    EXECUTE 'SELECT array_agg(x.id ORDER BY x.n) FROM (SELECT c.id, c.n'
        ' FROM unnest($12::uuid[]) WITH ORDINALITY c(id, n)'
        ' CROSS JOIN LATERAL (SELECT 1 FROM drafts d WHERE d.id = c.id AND '
        || history_where(NULL, p_agent_mode, p_invoker_mode, p_decider_mode, NULL, NULL, false)
        || ' LIMIT 1) d ORDER BY c.n LIMIT $11) x'
        INTO v_ids
        USING p_forum, NULL::text, p_agent, p_invoker, p_decider, NULL::timestamptz,
            NULL::timestamptz, NULL::tsquery, NULL::timestamptz, NULL::uuid, p_limit,
            coalesce(p_ids, '{}');
    RETURN coalesce(v_ids, '{}');
END $$;
