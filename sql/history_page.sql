-- One page of history as a JSON array text (history_rows()): at most p_limit drafts of a forum
-- under the filters, newest first, older than the keyset position (p_after_at, p_after_id)
-- when given. p_q is the user's search text in websearch syntax; it becomes a tsquery here,
-- never SQL. Without text the page is one ordered index range (an index per equality filter,
-- migration 0005) with LIMIT; with text, history_search() finds the ids. Notices (a search
-- without words) are not sent to the client, and JIT, which would compile for longer than any
-- of these plans runs, is off.
CREATE OR REPLACE FUNCTION history_page(p_forum text, p_state text, p_agent text, p_invoker text,
    p_decider text, p_from timestamptz, p_to timestamptz, p_q text, p_after_at timestamptz,
    p_after_id uuid, p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET client_min_messages = warning
SET jit = off AS $$
DECLARE
    v_query tsquery := CASE WHEN p_q IS NOT NULL THEN websearch_to_tsquery('simple', p_q) END;
    v_modes record;
    v_after_at timestamptz := p_after_at;
    v_ids uuid[];
BEGIN
    v_modes := history_modes(p_forum, p_agent, p_invoker, p_decider);
    -- A cursor at or after `to` excludes nothing more, and a btree positions on the row bound
    -- rather than on the tighter `to`: leave the cursor out then.
    IF p_to IS NOT NULL AND p_to <= p_after_at THEN
        v_after_at := NULL;
    END IF;
    IF v_query IS NOT NULL THEN
        v_ids := history_search(p_forum, p_state, p_agent, p_invoker, p_decider,
            v_modes.agent_mode, v_modes.invoker_mode, v_modes.decider_mode, p_from, p_to,
            v_query, v_after_at, CASE WHEN v_after_at IS NOT NULL THEN p_after_id END, p_limit);
    ELSE
        EXECUTE 'SELECT array_agg(d.id ORDER BY d.created_at DESC, d.id DESC) FROM'
            ' (SELECT d.id, d.created_at FROM drafts d WHERE '
            || history_where(p_state, v_modes.agent_mode, v_modes.invoker_mode,
                v_modes.decider_mode, p_from, p_to, v_after_at IS NOT NULL)
            || ' ORDER BY d.created_at DESC, d.id DESC LIMIT $11) d'
            INTO v_ids
            USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, NULL::tsquery,
                v_after_at, p_after_id, p_limit;
    END IF;
    RETURN history_rows(coalesce(v_ids, '{}'));
END $$;
