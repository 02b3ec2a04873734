-- The filtered history query, as text built only from the fixed fragments below. Parameters,
-- in this order, are bound by the callers: $1 forum, $2 state, $3 agent (id or name), $4 invoker
-- (id or name), $5 decider (id or name), $6 from (inclusive), $7 to (exclusive), $8 text query
-- (tsquery), $9 and $10 the cursor (created_at, id) of the last row already shown, $11 the row
-- limit. The arguments only say which filters are present and, for an "id or name" filter,
-- which column it matches (history_modes()); values are never looked at here.
--
-- Drafts are filtered, ordered and limited first (one index range in page order: see the index
-- design above), and only then is each one's current revision looked up for the title, so a page
-- reads 51 revisions whatever the filter. The lookup is a LATERAL subquery with LIMIT 1 so that
-- PostgreSQL cannot turn it into a hash join that sorts every row before the first one leaves:
-- an export streams from its first row, with no temporary files, however many rows follow.
-- With a text query, forum, time range, cursor and order are taken from draft_search (the same
-- values as the draft's), so the planner can walk draft_search_recent in page order or start
-- from the GIN index, and join drafts by id only. Titles and excerpts leave masked
-- (history_masked()).
CREATE OR REPLACE FUNCTION history_sql(p_state text, p_agent_mode text, p_invoker_mode text,
    p_decider_mode text, p_from timestamptz, p_to timestamptz, p_query tsquery,
    p_after_at timestamptz, p_limit integer, p_excerpt boolean)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    -- forum, time, cursor and order come from draft_search when searching (one row per draft,
    -- with the draft's forum and created_at), else from drafts
    v_t text := CASE WHEN p_query IS NOT NULL THEN 's' ELSE 'd' END;
    v_id text := CASE WHEN p_query IS NOT NULL THEN 's.draft_id' ELSE 'd.id' END;
    v_where text;
BEGIN
    v_where := v_t || '.forum = $1';
    IF p_query IS NOT NULL THEN
        v_where := v_where || ' AND s.search @@ $8';
    END IF;
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
        v_where := v_where || ' AND ' || v_t || '.created_at >= $6';
    END IF;
    IF p_to IS NOT NULL THEN
        v_where := v_where || ' AND ' || v_t || '.created_at < $7';
    END IF;
    IF p_after_at IS NOT NULL THEN
        v_where := v_where || ' AND (' || v_t || '.created_at, ' || v_id || ') < ($9, $10)';
    END IF;

    RETURN 'SELECT h.id, h.forum, h.state, h.created_at, h.decided_at, h.agent_id, h.agent_name,'
        ' h.invoker_id, h.invoker_name, h.decided_by_name, h.decided_by_id, h.topic_id,'
        ' h.category, CASE WHEN r.title IS NULL OR NOT h.flags @> ''[{"field": "title"}]'''
        ' THEN r.title ELSE history_masked(r.title, h.flags, ''title'') END AS title,'
        ' jsonb_array_length(h.flags) AS flags, h.post_url,'
        ' extract(epoch FROM date_trunc(''second'', h.created_at))::bigint * 1000000'
        ' + extract(microseconds FROM h.created_at)::bigint % 1000000 AS created_us'
        || CASE WHEN p_excerpt THEN ', CASE WHEN NOT h.flags @> ''[{"field": "body"}]'''
            ' THEN left(r.body, 160) ELSE history_masked(left(r.body, 160), h.flags, ''body'')'
            ' END AS excerpt' ELSE '' END
        || ' FROM (SELECT d.id, d.forum, d.state, d.revision, d.created_at, d.decided_at,'
        ' d.agent_id, d.agent_name, d.invoker_id, d.invoker_name, d.decided_by_id,'
        ' d.decided_by_name, d.topic_id, d.category, d.flags, d.post_url FROM '
        || CASE WHEN p_query IS NOT NULL THEN 'draft_search s JOIN drafts d ON d.id = s.draft_id'
            ELSE 'drafts d' END
        || ' WHERE ' || v_where
        || ' ORDER BY ' || v_t || '.created_at DESC, ' || v_id || ' DESC'
        || CASE WHEN p_limit IS NOT NULL THEN ' LIMIT $11' ELSE '' END
        || ') h CROSS JOIN LATERAL (SELECT r.title, r.body FROM draft_revisions r'
        || ' WHERE r.draft_id = h.id AND r.revision = h.revision LIMIT 1) r'
        || ' ORDER BY h.created_at DESC, h.id DESC';
END $$;
