-- The draft ids of one history page with a text query (p_query), newest first, at most p_limit,
-- older than the keyset position (p_after_at, p_after_id) when given, under the other filters
-- too. Parameters as history_where() says; p_*_mode from history_modes().
--
-- Why not one query: newest-first with a text query has no single good plan. Walking the
-- forum's drafts in page order and testing the text is cheap when matches are frequent and
-- ruinous when they are rare; collecting every match from the GIN index is the reverse; and a
-- selective filter (an agent, an invoker) that the walk would skip through is best walked on
-- its own index. The planner picks one from estimates, and a wrong estimate (a word rarer than
-- it thinks, a state that only exists recently) cost up to 300 ms a page at a million drafts.
-- So the strategies run side by side in rounds, each with a budget that grows fourfold a
-- round, until one of them can answer:
--   walk:   draft_search in page order from where it stopped, testing the text (the state is
--           a lexeme of it, migration 0051) on each row and the people filters on the drafts
--           that match. It answers once it has p_limit matches or reaches the end.
--   people: (only with an agent, invoker or decider filter) the drafts matching the filters,
--           in page order on their own index, testing the text of each.
--   index:  the GIN index's matches of the text in the range (history_matches()), in one
--           bitmap scan that stops after its budget. It answers when the matches fit in it:
--           then they are all, and ordering them is cheap. A GIN bitmap costs in proportion to
--           how common the words are, however few rows it returns, so it runs only when the
--           walk's own count of matches (a sample of the range, not a statistic) says it would
--           cost less than the next walk round, and its budget is four times that count.
-- Every step's work is bounded by its budget, and the work of all the rounds together is a
-- small constant times the work of the strategy that suits the query, so no estimate decides
-- how slow a page is. Each step's plan is fixed by its shape: an ordered index range with
-- LIMIT (sequential scans are off: never a sort of a whole table), lookups by primary key
-- through LATERAL ... LIMIT 1 (never a hash join that reads a whole table), and, for the
-- index step, a bitmap scan.
CREATE OR REPLACE FUNCTION history_search(p_forum text, p_state text, p_agent text,
    p_invoker text, p_decider text, p_agent_mode text, p_invoker_mode text, p_decider_mode text,
    p_from timestamptz, p_to timestamptz, p_query tsquery, p_after_at timestamptz,
    p_after_id uuid, p_limit integer)
RETURNS uuid[]
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET jit = off AS $$
DECLARE
    v_query tsquery := CASE WHEN p_state IS NULL THEN p_query
        ELSE p_query && format('%L', 'state ' || p_state)::tsquery END;
    v_people boolean := p_agent_mode IS NOT NULL OR p_invoker_mode IS NOT NULL
        OR p_decider_mode IS NOT NULL;
    v_probe text := CASE WHEN p_agent_mode IS NULL AND p_invoker_mode IS NULL
            AND p_decider_mode IS NULL THEN ''
        ELSE ' CROSS JOIN LATERAL (SELECT 1 FROM drafts d WHERE d.id = h.draft_id AND '
            || history_where(NULL, p_agent_mode, p_invoker_mode, p_decider_mode, NULL, NULL,
                false) || ' LIMIT 1) d' END;
    v_range text := 's.forum = $1'
        || CASE WHEN p_from IS NOT NULL THEN ' AND s.created_at >= $6' ELSE '' END
        || CASE WHEN p_to IS NOT NULL THEN ' AND s.created_at < $7' ELSE '' END
        || ' AND (s.created_at, s.draft_id) < ($9, $10)';
    v_rows double precision := greatest(1, (SELECT c.reltuples FROM pg_class c
        WHERE c.oid = 'draft_search'::regclass));
    v_walk text;
    v_drive text;
    v_walk_budget integer := 1024;
    v_drive_budget integer := 128;
    v_index_budget integer := 256;
    v_walk_at timestamptz := coalesce(p_after_at, 'infinity');
    v_walk_id uuid := coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    v_drive_at timestamptz := v_walk_at;
    v_drive_id uuid := v_walk_id;
    v_walk_hits uuid[] := '{}';
    v_drive_hits uuid[] := '{}';
    v_walked bigint := 0;
    v_matched bigint := 0;
    v_estimate double precision;
    v_seen integer;
    v_matches integer;
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
        ' SELECT (SELECT count(*) FROM w)::integer, (SELECT count(*) FROM w WHERE w.hit)::integer,'
        ' l.created_at, l.draft_id,'
        ' (SELECT array_agg(h.draft_id ORDER BY h.created_at DESC, h.draft_id DESC) FROM w h'
        || v_probe || ' WHERE h.hit)'
        ' FROM (SELECT w.created_at, w.draft_id FROM w'
        '  ORDER BY w.created_at, w.draft_id LIMIT 1) l';
    v_drive := 'WITH f AS MATERIALIZED (SELECT d.id, d.created_at FROM drafts d WHERE '
        || history_where(p_state, p_agent_mode, p_invoker_mode, p_decider_mode, p_from, p_to,
            true)
        || ' ORDER BY d.created_at DESC, d.id DESC LIMIT $11)'
        ' SELECT (SELECT count(*) FROM f)::integer, l.created_at, l.id,'
        ' (SELECT array_agg(h.id ORDER BY h.created_at DESC, h.id DESC) FROM f h'
        '  CROSS JOIN LATERAL (SELECT s.search FROM draft_search s WHERE s.draft_id = h.id'
        '  LIMIT 1) s WHERE s.search @@ $8)'
        ' FROM (SELECT f.created_at, f.id FROM f ORDER BY f.created_at, f.id LIMIT 1) l';
    LOOP
        -- walk
        EXECUTE v_walk INTO v_seen, v_matches, v_last_at, v_last_id, v_hits
            USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query,
                v_walk_at, v_walk_id, v_walk_budget;
        v_walk_hits := v_walk_hits || coalesce(v_hits, '{}');
        IF coalesce(v_seen, 0) < v_walk_budget OR cardinality(v_walk_hits) >= p_limit THEN
            RETURN v_walk_hits[1:p_limit];
        END IF;
        v_walk_at := v_last_at;
        v_walk_id := v_last_id;
        v_walked := v_walked + v_seen;
        v_matched := v_matched + v_matches;
        -- people
        IF v_people THEN
            EXECUTE v_drive INTO v_seen, v_last_at, v_last_id, v_hits
                USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query,
                    v_drive_at, v_drive_id, v_drive_budget;
            v_drive_hits := v_drive_hits || coalesce(v_hits, '{}');
            IF coalesce(v_seen, 0) < v_drive_budget OR cardinality(v_drive_hits) >= p_limit THEN
                RETURN v_drive_hits[1:p_limit];
            END IF;
            v_drive_at := v_last_at;
            v_drive_id := v_last_id;
        END IF;
        -- index, when the matches the walk counted say it costs less than the next walk round
        v_estimate := v_matched::double precision / v_walked * v_rows;
        IF 10 * v_estimate <= 4 * v_walk_budget THEN
            v_index_budget := greatest(v_index_budget, ceil(4 * v_estimate)::integer);
            v_hits := history_matches(p_forum, p_from, p_to, v_query, p_after_at, p_after_id,
                v_index_budget + 1);
            IF coalesce(cardinality(v_hits), 0) <= v_index_budget THEN
                RETURN history_pick(p_forum, v_hits, p_agent, p_invoker, p_decider,
                    p_agent_mode, p_invoker_mode, p_decider_mode, p_limit);
            END IF;
        END IF;
        v_walk_budget := v_walk_budget * 4;
        v_drive_budget := v_drive_budget * 4;
        v_index_budget := v_index_budget * 4;
    END LOOP;
END $$;
