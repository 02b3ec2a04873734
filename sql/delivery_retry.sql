-- A moderator's retry of a draft whose release failed: back to approved, its approval event
-- queued again under the same webhook-id so the forum can drop a duplicate. The actor is who
-- retried ('user:<id>' for a moderator, 'cli:<unix user>' from the command line), with the
-- person's display name in the event's details when known.
CREATE OR REPLACE FUNCTION delivery_retry(p_id uuid, p_actor text, p_actor_name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_delivery deliveries%ROWTYPE;
BEGIN
    SELECT * INTO v_draft FROM drafts WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF v_draft.state <> 'release_failed' THEN
        RETURN 'not_failed';
    END IF;
    SELECT * INTO v_delivery FROM deliveries
        WHERE draft_id = p_id AND event_type = 'draft.approved'
        ORDER BY id DESC LIMIT 1;
    UPDATE drafts SET state = 'approved', updated_at = now() WHERE id = p_id;
    INSERT INTO outbox (draft_id, forum, event_type, webhook_id, payload)
        VALUES (p_id, v_draft.forum, 'draft.approved', v_delivery.webhook_id, v_delivery.payload);
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES (p_actor, 'delivery.retry', v_draft.forum, p_id,
            jsonb_strip_nulls(jsonb_build_object('webhook_id', v_delivery.webhook_id,
                'actor_name', p_actor_name)));
    RETURN 'retried';
END $$;
