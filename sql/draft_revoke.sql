-- Revokes a pending or approved (not yet released) draft, audited, the forum told.
-- The caller holds the row lock or is inside the transaction that read it.
CREATE OR REPLACE FUNCTION draft_revoke(p_id uuid, p_actor text, p_reason text, p_cause text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_forum text;
BEGIN
    UPDATE drafts SET state = 'revoked', decided_at = now(), decision_reason = p_reason,
            decided_by_name = p_actor, updated_at = now()
        WHERE id = p_id RETURNING forum INTO v_forum;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES (p_actor, 'draft.revoke', v_forum, p_id,
            jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'cause', p_cause)));
    PERFORM outbox_add(p_id, 'draft.revoked',
        jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'revoked_at',
            to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))));
END $$;
