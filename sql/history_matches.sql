-- The drafts of a forum whose search vector matches p_query (words, and a state lexeme:
-- migration 0051), in the range [p_from, p_to) and older than the keyset position
-- (p_after_at, p_after_id), newest first, found through the GIN index among the rows that match
-- p_candidates (p_query with its phrases loosened to "all these words", which the index answers
-- without reading the table), at most p_limit of those: `complete` says whether there were no
-- more. A phrase is checked on each candidate row, so bounding candidates bounds the rows read;
-- a bound on the phrase's own matches would not. Only bitmap scans: plain index scans and
-- sequential scans are off for this function, so the planner cannot turn it into a walk of the
-- whole forum when it thinks the words are common.
CREATE OR REPLACE FUNCTION history_matches(p_forum text, p_from timestamptz, p_to timestamptz,
    p_candidates tsquery, p_query tsquery, p_after_at timestamptz, p_after_id uuid,
    p_limit integer, OUT ids uuid[], OUT complete boolean)
LANGUAGE sql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
SET enable_indexonlyscan = off
SET jit = off AS $$
    SELECT coalesce(array_agg(s.draft_id ORDER BY s.created_at DESC, s.draft_id DESC)
            FILTER (WHERE s.search @@ p_query), '{}'),
        count(*) < p_limit
    FROM (SELECT s.draft_id, s.created_at, s.search FROM draft_search s
        WHERE s.search @@ p_candidates AND s.forum = p_forum
          AND (p_from IS NULL OR s.created_at >= p_from)
          AND (p_to IS NULL OR s.created_at < p_to)
          AND (p_after_at IS NULL OR (s.created_at, s.draft_id) < (p_after_at, p_after_id))
        LIMIT p_limit) s
$$;
