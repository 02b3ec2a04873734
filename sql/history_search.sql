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
-- So the strategies run side by side in rounds, each with a budget that grows each round
-- (the walk's by two to four times, as much as its rate of matches says it still needs; the
-- others' fourfold), until one of them can answer:
--   walk:   draft_search in page order from where it stopped, testing the text (the state is
--           a lexeme of it, migration 0051) on each row and the people filters on the drafts
--           that match. It answers once it has p_limit matches or reaches the end.
--   people: (only with an agent, invoker or decider filter) the drafts matching the filters,
--           in page order on their own index, testing the text of each.
--   index:  the rows the GIN index finds for the words (phrases loosened to "all these
--           words", which it answers without reading the table) in the range, in one bitmap
--           scan that stops after its budget, each then tested for the text itself
--           (history_matches()). It answers when the candidates fit in the budget: then they
--           are all, and ordering the matches is cheap. Each candidate costs a visit of the
--           table, about ten walked rows, so its budget is a tenth of the rows the walk still
--           expects to read (from the rate at which it has found matches so far): trying it
--           never costs more than walking on would. It is tried when the candidates are
--           expected to fit: their share of the rows the walk read (a sample of the range)
--           times the table's size, times the state's share of all drafts (a statistic: the
--           state's share of recent drafts is no guide, most recent drafts are pending). A
--           wrong guess costs at most that budget, and it is tried again only with four times
--           as much.
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
    -- the words as the walk counts them and the index finds them: phrases loosened to "all
    -- these words" (the index answers that without reading the table)
    v_words tsquery := regexp_replace(p_query::text, '<[-0-9]+>', '&', 'g')::tsquery;
    v_state tsquery := CASE WHEN p_state IS NOT NULL
        THEN format('%L', 'state ' || p_state)::tsquery END;
    v_query tsquery := CASE WHEN p_state IS NULL THEN p_query ELSE p_query && v_state END;
    v_candidates tsquery := CASE WHEN p_state IS NULL THEN v_words ELSE v_words && v_state END;
    v_complete boolean;
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
    v_state_share double precision := CASE WHEN p_state IS NULL THEN 1 ELSE coalesce(
        (SELECT st.most_common_freqs[array_position(st.most_common_vals::text::text[], p_state)]
            FROM pg_stats st WHERE st.schemaname = current_schema()
              AND st.tablename = 'drafts' AND st.attname = 'state'), 1) END;
    v_walk text;
    v_drive text;
    v_walk_budget integer := 1024;
    v_drive_budget integer := 128;
    v_index_budget integer;
    v_index_tried integer := 0;
    v_walk_at timestamptz := coalesce(p_after_at, 'infinity');
    v_walk_id uuid := coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    v_drive_at timestamptz := v_walk_at;
    v_drive_id uuid := v_walk_id;
    v_walk_hits uuid[] := '{}';
    v_drive_hits uuid[] := '{}';
    v_walked bigint := 0;
    v_worded bigint := 0;
    v_remaining double precision;
    v_estimate double precision;
    v_seen integer;
    v_worded_now integer;
    v_last_at timestamptz;
    v_last_id uuid;
    v_hits uuid[];
BEGIN
    IF numnode(p_query) = 0 THEN
        RETURN '{}'; -- no words (only punctuation): nothing matches
    END IF;
    v_walk := 'WITH w AS MATERIALIZED (SELECT s.draft_id, s.created_at, s.search @@ $8 AS hit,'
        ' s.search @@ $12 AS word FROM draft_search s WHERE ' || v_range
        || ' ORDER BY s.created_at DESC, s.draft_id DESC LIMIT $11)'
        ' SELECT (SELECT count(*) FROM w)::integer, (SELECT count(*) FROM w WHERE w.word)::integer,'
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
        EXECUTE v_walk INTO v_seen, v_worded_now, v_last_at, v_last_id, v_hits
            USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query,
                v_walk_at, v_walk_id, v_walk_budget, v_words;
        v_walk_hits := v_walk_hits || coalesce(v_hits, '{}');
        IF coalesce(v_seen, 0) < v_walk_budget OR cardinality(v_walk_hits) >= p_limit THEN
            RETURN v_walk_hits[1:p_limit];
        END IF;
        v_walk_at := v_last_at;
        v_walk_id := v_last_id;
        v_walked := v_walked + v_seen;
        v_worded := v_worded + v_worded_now;
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
        -- index: budget a tenth of the rows the walk still expects to read; tried when the
        -- matches are expected to fit, and again only with four times the budget it failed with
        v_remaining := least(v_rows, (p_limit - cardinality(v_walk_hits))
            * v_walked::double precision / greatest(cardinality(v_walk_hits), 1));
        v_index_budget := floor(v_remaining / 10);
        -- the candidates' share of the walked rows, on the high side of what the sample allows
        -- (a few matches in a thousand rows say little)
        v_estimate := (v_worded + sqrt(v_worded) + 1) / v_walked * v_rows * v_state_share;
        IF v_estimate <= v_index_budget AND v_index_budget >= 4 * v_index_tried THEN
            SELECT m.ids, m.complete INTO v_hits, v_complete FROM history_matches(p_forum,
                p_from, p_to, v_candidates, v_query, p_after_at, p_after_id, v_index_budget + 1) m;
            IF v_complete THEN
                RETURN history_pick(p_forum, v_hits, p_agent, p_invoker, p_decider,
                    p_agent_mode, p_invoker_mode, p_decider_mode, p_limit);
            END IF;
            v_index_tried := greatest(v_index_budget, 1);
        END IF;
        -- the next walk reads about what it still expects to need, at least twice and at most
        -- four times as much as this one
        v_walk_budget := least(4 * v_walk_budget,
            greatest(2 * v_walk_budget, ceil(1.25 * v_remaining)::integer));
        v_drive_budget := v_drive_budget * 4;
    END LOOP;
END $$;
