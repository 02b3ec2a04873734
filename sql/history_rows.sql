-- The rows of one history page as a JSON array text, in the order of p_ids: times as ISO 8601
-- UTC, each row's cursor as "created_us:id" (the keyset position of the next page), the
-- current revision's title and, for drafts without one, the body's first 600 characters, and
-- the flags: the page masks secrets in both as the draft page does and makes the excerpt plain
-- text (history_pages.c), so these rows never reach a page as they are. One draft_revisions
-- lookup per row: a page reads at most 51.
CREATE OR REPLACE FUNCTION history_rows(p_ids uuid[])
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(json_build_object(
        'id', d.id, 'forum', d.forum, 'state', d.state,
        'created_at', to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'decided_at', to_char(d.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'agent_id', d.agent_id, 'agent_name', d.agent_name,
        'invoker_id', d.invoker_id, 'invoker_name', d.invoker_name,
        'decided_by', d.decided_by_name, 'decided_by_id', d.decided_by_id,
        'topic_id', d.topic_id, 'category', d.category,
        'title', r.title, 'body', CASE WHEN r.title IS NULL THEN left(r.body, 600) END,
        'flags', d.flags,
        'flags_count', jsonb_array_length(d.flags), 'post_url', d.post_url,
        'cursor', (extract(epoch FROM date_trunc('second', d.created_at))::bigint * 1000000
            + extract(microseconds FROM d.created_at)::bigint % 1000000)::text
            || ':' || d.id::text)
        ORDER BY x.n), '[]')::text
    FROM unnest(p_ids) WITH ORDINALITY x(id, n)
    JOIN drafts d ON d.id = x.id
    CROSS JOIN LATERAL (SELECT r.title, r.body FROM draft_revisions r
        WHERE r.draft_id = d.id AND r.revision = d.revision LIMIT 1) r
$$;
