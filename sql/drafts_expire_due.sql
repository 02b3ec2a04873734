-- Expires pending drafts past their time (at most p_limit per call, skipping rows another
-- process holds) and queues reminders for those expiring within p_remind_before. Returns
-- the number expired.
CREATE OR REPLACE FUNCTION drafts_expire_due(p_limit integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_draft record;
    v_count integer := 0;
BEGIN
    FOR v_draft IN SELECT id, forum FROM drafts
            WHERE state = 'pending' AND expires_at <= now()
            ORDER BY expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        UPDATE drafts SET state = 'expired', decided_at = now(), updated_at = now()
            WHERE id = v_draft.id;
        INSERT INTO audit_events (actor, action, forum, draft_id, details)
            VALUES ('agentgate', 'draft.expire', v_draft.forum, v_draft.id, '{}');
        PERFORM outbox_add(v_draft.id, 'draft.expired', jsonb_build_object('expired_at',
            to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
