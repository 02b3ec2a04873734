-- Rejects or revokes many drafts of one forum at once. 'reject' applies to pending drafts,
-- 'revoke' to pending and approved (not yet released) ones; others are skipped. Each change is
-- audited, and the forum told, in this one transaction; the moderator is recorded as the
-- decider by id and name either way. Returns how many changed.
CREATE OR REPLACE FUNCTION moderation_bulk(p_forum text, p_ids uuid[], p_action text, p_reason text,
    p_actor_id text, p_actor_name text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_draft record;
    v_count integer := 0;
BEGIN
    IF p_action NOT IN ('reject', 'revoke') THEN
        RAISE EXCEPTION 'unknown bulk action %', p_action USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_draft IN SELECT id, state FROM drafts
            WHERE forum = p_forum AND id = ANY (p_ids)
              AND (state = 'pending' OR (p_action = 'revoke' AND state = 'approved'))
            ORDER BY created_at FOR UPDATE LOOP
        IF p_action = 'reject' THEN
            UPDATE drafts SET state = 'rejected', decided_at = now(), decided_by_id = p_actor_id,
                    decided_by_name = p_actor_name, decision_reason = p_reason, updated_at = now()
                WHERE id = v_draft.id;
            INSERT INTO audit_events (actor, action, forum, draft_id, details)
                VALUES ('user:' || p_actor_id, 'draft.reject', p_forum, v_draft.id,
                    jsonb_build_object('actor_name', p_actor_name, 'reason', p_reason,
                        'as', 'moderator', 'bulk', true));
            PERFORM outbox_add(v_draft.id, 'draft.rejected', jsonb_build_object(
                'rejected_by', jsonb_build_object('id', p_actor_id, 'name', p_actor_name),
                'rejected_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'reason', p_reason));
        ELSE
            PERFORM draft_revoke(v_draft.id, 'user:' || p_actor_id, p_reason, 'moderator');
            UPDATE drafts SET decided_by_id = p_actor_id, decided_by_name = p_actor_name
                WHERE id = v_draft.id;
        END IF;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
