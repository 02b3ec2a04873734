-- drafts_remind_expiring: see the comment below; first defined in 0003_delivery.sql.
CREATE OR REPLACE FUNCTION drafts_remind_expiring(p_forum text, p_before interval, p_limit integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_draft record;
    v_count integer := 0;
BEGIN
    FOR v_draft IN SELECT id, expires_at FROM drafts
            WHERE forum = p_forum AND state = 'pending' AND NOT expiring_notified
              AND expires_at <= now() + p_before AND expires_at > now()
            ORDER BY expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
        UPDATE drafts SET expiring_notified = true WHERE id = v_draft.id;
        PERFORM outbox_add(v_draft.id, 'draft.expiring', jsonb_build_object('expires_at',
            to_char(v_draft.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
