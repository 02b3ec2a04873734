-- The draft ids of one history page with a text query (p_query), newest first, at most p_limit,
-- older than the keyset position (p_after_at, p_after_id) when given, under the other filters
-- too. Parameters as history_where() says; p_*_mode from history_modes().
--
-- Why not one query: newest-first with a text query has no single good plan. Walking the
-- forum's drafts in page order and testing the text is cheap when matches are frequent and
-- ruinous when they are rare; collecting every match from the GIN index is the reverse; and a
-- selective filter (a state, an agent) that the walk would skip through is best walked on its
-- own index. The planner picks one from estimates, and a wrong estimate (a word rarer than it
-- thinks, a state that only exists recently) cost up to 300 ms at a million drafts. So the
-- strategies run side by side, each with a budget that grows fourfold each round, until one
-- of them can answer:
--   walk:   draft_search in page order from the position, `budget * 4` rows, testing the text
--           on each and the other filters on the drafts that match; it continues next round
--           where it stopped. It answers once it has p_limit matches or reaches the end.
--   filter: (only with a state, agent, invoker or decider filter) the drafts matching those,
--           in page order on their own index, `budget` rows, testing the text on each.
--   index:  the GIN index's matches for the text in the range (history_matches()), at most
--           budget + 1 of them; it answers when there are no more than `budget` (then they are
--           all, and sorting them is cheap).
-- Every step reads at most its budget (the GIN bitmap itself aside), and the work done in all
-- is at most a small constant times the work of the strategy that suited the query best, so
-- no estimate decides how slow a page is. Each step's plan is fixed by its shape: an ordered
-- index range with LIMIT (sequential scans are off: never a sort of a whole table), lookups by
-- primary key through LATERAL ... LIMIT 1 (never a hash join that would read a whole table),
-- and, for the index step, a bitmap scan.
CREATE OR REPLACE FUNCTION history_search(p_forum text, p_state text, p_agent text,
    p_invoker text, p_decider text, p_agent_mode text, p_invoker_mode text, p_decider_mode text,
    p_from timestamptz, p_to timestamptz, p_query tsquery, p_after_at timestamptz,
    p_after_id uuid, p_limit integer)
RETURNS uuid[]
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET jit = off AS $$
DECLARE
    v_filtered boolean := p_state IS NOT NULL OR p_agent_mode IS NOT NULL
        OR p_invoker_mode IS NOT NULL OR p_decider_mode IS NOT NULL;
    v_drafts text := history_where(p_state, p_agent_mode, p_invoker_mode, p_decider_mode,
        NULL, NULL, false);
    v_range text := 's.forum = $1'
        || CASE WHEN p_from IS NOT NULL THEN ' AND s.created_at >= $6' ELSE '' END
        || CASE WHEN p_to IS NOT NULL THEN ' AND s.created_at < $7' ELSE '' END
        || ' AND (s.created_at, s.draft_id) < ($9, $10)';
    v_walk text;
    v_filter text;
    v_pick text;
    v_budget integer := 128;
    v_walk_at timestamptz := coalesce(p_after_at, 'infinity');
    v_walk_id uuid := coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    v_filter_at timestamptz := v_walk_at;
    v_filter_id uuid := v_walk_id;
    v_walk_hits uuid[] := '{}';
    v_filter_hits uuid[] := '{}';
    v_seen integer;
    v_last_at timestamptz;
    v_last_id uuid;
    v_hits uuid[];
BEGIN
    IF numnode(p_query) = 0 THEN
        RETURN '{}'; -- no words (only punctuation): nothing matches
    END IF;
    v_walk := 'WITH w AS MATERIALIZED (SELECT s.draft_id, s.created_at, s.search @@ $8 AS hit'
        ' FROM draft_search s WHERE ' || v_range
        || ' ORDER BY s.created_at DESC, s.draft_id DESC LIMIT $11)'
        ' SELECT (SELECT count(*) FROM w)::integer, l.created_at, l.draft_id,'
        ' (SELECT array_agg(h.draft_id ORDER BY h.created_at DESC, h.draft_id DESC) FROM w h'
        '  CROSS JOIN LATERAL (SELECT 1 FROM drafts d WHERE d.id = h.draft_id AND '
        || v_drafts || ' LIMIT 1) d WHERE h.hit)'
        ' FROM (SELECT w.created_at, w.draft_id FROM w'
        '  ORDER BY w.created_at, w.draft_id LIMIT 1) l';
    v_filter := 'WITH f AS MATERIALIZED (SELECT d.id, d.created_at FROM drafts d WHERE '
        || history_where(p_state, p_agent_mode, p_invoker_mode, p_decider_mode, p_from, p_to,
            true)
        || ' ORDER BY d.created_at DESC, d.id DESC LIMIT $11)'
        ' SELECT (SELECT count(*) FROM f)::integer, l.created_at, l.id,'
        ' (SELECT array_agg(h.id ORDER BY h.created_at DESC, h.id DESC) FROM f h'
        '  CROSS JOIN LATERAL (SELECT s.search FROM draft_search s WHERE s.draft_id = h.id'
        '  LIMIT 1) s WHERE s.search @@ $8)'
        ' FROM (SELECT f.created_at, f.id FROM f ORDER BY f.created_at, f.id LIMIT 1) l';
    v_pick := 'SELECT array_agg(x.id ORDER BY x.created_at DESC, x.id DESC) FROM (SELECT d.id,'
        ' d.created_at FROM unnest($12::uuid[]) c(id) CROSS JOIN LATERAL (SELECT d.* FROM'
        ' drafts d WHERE d.id = c.id LIMIT 1) d WHERE ' || v_drafts
        || ' ORDER BY d.created_at DESC, d.id DESC LIMIT $11) x';
    LOOP
        EXECUTE v_walk INTO v_seen, v_last_at, v_last_id, v_hits
            USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, p_query,
                v_walk_at, v_walk_id, v_budget * 4;
        v_walk_hits := v_walk_hits || coalesce(v_hits, '{}');
        IF coalesce(v_seen, 0) < v_budget * 4 OR cardinality(v_walk_hits) >= p_limit THEN
            RETURN v_walk_hits[1:p_limit];
        END IF;
        v_walk_at := v_last_at;
        v_walk_id := v_last_id;
        IF v_filtered THEN
            EXECUTE v_filter INTO v_seen, v_last_at, v_last_id, v_hits
                USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, p_query,
                    v_filter_at, v_filter_id, v_budget;
            v_filter_hits := v_filter_hits || coalesce(v_hits, '{}');
            IF coalesce(v_seen, 0) < v_budget OR cardinality(v_filter_hits) >= p_limit THEN
                RETURN v_filter_hits[1:p_limit];
            END IF;
            v_filter_at := v_last_at;
            v_filter_id := v_last_id;
        END IF;
        v_hits := history_matches(p_forum, p_from, p_to, p_query, p_after_at, p_after_id,
            v_budget + 1);
        IF coalesce(cardinality(v_hits), 0) <= v_budget THEN
            EXECUTE v_pick INTO v_hits
                USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, p_query,
                    NULL::timestamptz, NULL::uuid, p_limit, coalesce(v_hits, '{}');
            RETURN coalesce(v_hits, '{}');
        END IF;
        v_budget := v_budget * 4;
    END LOOP;
END $$;
