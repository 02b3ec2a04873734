-- One page of /audit as a JSON array text, newest first by (occurred_at, id): the events of
-- p_forum and those of no forum (kill switch, command line), under the filters given (NULL: not
-- filtered): exact actor, exact action, draft, occurred_at in [p_from, p_to), and the keyset
-- cursor (p_before_at, p_before_id) of the last event already shown. At most p_limit events.
--
-- Each event: id, seq (null while unsealed), at (ISO 8601 UTC), at_label ("2026-12-01
-- 12:17:08 UTC"), cursor ("<occurred_at in microseconds>:<id>"), actor, action, forum, draft_id,
-- details (the jsonb's text, as a string: numbers stay as PostgreSQL prints them), actor_name
-- (the name the event itself recorded for its actor, else the one agentgate knows now for that
-- user or agent of the same forum; null when neither) and draft_title (the draft's current
-- title, null for a reply or a draft of another forum).
--
-- The query is built with only the filters given and run by EXECUTE, so each call is planned
-- for its own filters and uses the index that serves them (migration 0021); values are passed as
-- parameters, never spliced into the text.
CREATE OR REPLACE FUNCTION audit_page(p_forum text, p_actor text, p_action text, p_draft_id uuid,
    p_from timestamptz, p_to timestamptz, p_before_at timestamptz, p_before_id bigint,
    p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    -- one filter a line; concat_ws() leaves out the absent ones (NULL)
    v_where text := concat_ws(' AND ', '(e.forum = $1 OR e.forum IS NULL)',
        CASE WHEN p_actor IS NOT NULL THEN 'e.actor = $2' END,
        CASE WHEN p_action IS NOT NULL THEN 'e.action = $3' END,
        CASE WHEN p_draft_id IS NOT NULL THEN 'e.draft_id = $4' END,
        CASE WHEN p_from IS NOT NULL THEN 'e.occurred_at >= $5' END,
        CASE WHEN p_to IS NOT NULL THEN 'e.occurred_at < $6' END,
        CASE WHEN p_before_at IS NOT NULL AND p_before_id IS NOT NULL
            THEN '(e.occurred_at, e.id) < ($7, $8)' END);
    v_page text;
BEGIN
    EXECUTE 'SELECT coalesce(json_agg(json_build_object('
        || '''id'', p.id, ''seq'', p.seq,'
        || '''at'', to_char(p.occurred_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''),'
        || '''at_label'', to_char(p.occurred_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI:SS'') || '' UTC'','
        || '''cursor'', (extract(epoch FROM p.occurred_at) * 1000000)::bigint || '':'' || p.id,'
        || '''actor'', p.actor, ''action'', p.action, ''forum'', p.forum, ''draft_id'', p.draft_id,'
        || '''details'', p.details::text,'
        || '''actor_name'', CASE'
        || '  WHEN p.actor LIKE ''user:%'' THEN coalesce(p.details ->> ''actor_name'','
        || '    CASE WHEN p.action LIKE ''auth.%'' THEN p.details ->> ''username'' END,'
        || '    (SELECT u.username FROM users u WHERE u.forum = p.forum AND u.user_id = substr(p.actor, 6)))'
        || '  WHEN p.actor LIKE ''agent:%'' THEN coalesce(p.details #>> ''{agent,name}'','
        || '    (SELECT a.name FROM agents a WHERE a.forum = p.forum AND a.agent_id = substr(p.actor, 7)))'
        || '  END,'
        || '''draft_title'', (SELECT r.title FROM drafts d JOIN draft_revisions r'
        || '    ON r.draft_id = d.id AND r.revision = d.revision WHERE d.id = p.draft_id AND d.forum = $1))'
        || ' ORDER BY p.occurred_at DESC, p.id DESC), ''[]'')::text'
        || ' FROM (SELECT e.* FROM audit_events e WHERE ' || v_where
        || ' ORDER BY e.occurred_at DESC, e.id DESC LIMIT $9) p'
        INTO v_page
        USING p_forum, p_actor, p_action, p_draft_id, p_from, p_to, p_before_at, p_before_id,
            p_limit;
    RETURN v_page;
END $$;
