-- Drafts of a forum whose search vector matches p_query (words, and a state lexeme: migration
-- 0051), in the range [p_from, p_to) and older than the keyset position (p_after_at,
-- p_after_id), newest first: at most p_limit of them, so a caller that asks for one more than
-- it can use learns whether it has them all. Only through the GIN index (a bitmap scan, which
-- stops reading the table once it has p_limit rows): plain index scans and sequential scans
-- are off for this function, so the planner cannot turn it into a walk of the whole forum when
-- it thinks the words are common.
CREATE OR REPLACE FUNCTION history_matches(p_forum text, p_from timestamptz, p_to timestamptz,
    p_query tsquery, p_after_at timestamptz, p_after_id uuid, p_limit integer)
RETURNS uuid[]
LANGUAGE sql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
SET enable_indexonlyscan = off
SET jit = off AS $$
    SELECT array_agg(s.draft_id ORDER BY s.created_at DESC, s.draft_id DESC)
    FROM (SELECT s.draft_id, s.created_at FROM draft_search s
        WHERE s.search @@ p_query AND s.forum = p_forum
          AND (p_from IS NULL OR s.created_at >= p_from)
          AND (p_to IS NULL OR s.created_at < p_to)
          AND (p_after_at IS NULL OR (s.created_at, s.draft_id) < (p_after_at, p_after_id))
        LIMIT p_limit) s
$$;
