-- Remembers the error answered to a forum decision's webhook-id (CONTRACT §4.2), unless a
-- request with the same id was answered first: then returns that first answer, which the caller
-- sends instead. A request with a remembered id for another draft (a captured request replayed
-- onto another draft's path) gets its own refusal, not the first answer. Returns one row:
-- stored (true when the caller's answer stands) and the answer to send. Purges ids older than
-- 15 minutes, as draft_decide_once does.
CREATE OR REPLACE FUNCTION draft_decision_remember(p_forum text, p_webhook_id text, p_id uuid,
    p_status integer, p_error_code text, p_error_field text, p_error_message text)
RETURNS TABLE (stored boolean, status integer, response text, error_code text,
    error_field text, error_message text)
LANGUAGE plpgsql AS $$
DECLARE
    v_first forum_decision_requests%ROWTYPE;
BEGIN
    DELETE FROM forum_decision_requests r WHERE r.received_at < now() - interval '15 minutes';
    INSERT INTO forum_decision_requests (forum, webhook_id, draft_id, status, error_code,
            error_field, error_message)
        VALUES (p_forum, p_webhook_id, p_id, p_status, p_error_code, p_error_field,
            p_error_message)
        ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN QUERY SELECT true, p_status, NULL::text, p_error_code, p_error_field,
            p_error_message;
        RETURN;
    END IF;
    SELECT * INTO v_first FROM forum_decision_requests r
        WHERE r.forum = p_forum AND r.webhook_id = p_webhook_id;
    IF NOT FOUND OR v_first.draft_id <> p_id THEN
        RETURN QUERY SELECT true, p_status, NULL::text, p_error_code, p_error_field,
            p_error_message;
        RETURN;
    END IF;
    RETURN QUERY SELECT false, v_first.status, v_first.response, v_first.error_code,
        v_first.error_field, v_first.error_message;
END $$;
