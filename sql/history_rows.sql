-- The rows of one history page as a JSON array text, in the order of p_ids: times as ISO 8601
-- UTC, each row's cursor as "created_us:id" (the keyset position of the next page), the
-- current revision's title and, for drafts without one, the start of the body as the excerpt
-- (the page makes it plain text); secrets in both are masked (history_masked()). One
-- draft_revisions lookup per row: a page reads at most 51.
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
        'title', CASE WHEN r.title IS NULL OR NOT d.flags @> '[{"field": "title"}]' THEN r.title
            ELSE history_masked(r.title, d.flags, 'title') END,
        'excerpt', CASE WHEN r.title IS NOT NULL THEN NULL
            WHEN NOT d.flags @> '[{"field": "body"}]' THEN left(r.body, 400)
            ELSE history_masked(left(r.body, 400), d.flags, 'body') END,
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
