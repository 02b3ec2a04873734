-- A decision from the forum (CONTRACT §4.2), done at most once per webhook-id. The id is
-- claimed first: a concurrent request with the same id waits on the primary key until this
-- transaction ends, then finds the stored answer. When the draft was decided, the answer (the
-- 200 body) is stored with the claim in the same transaction; otherwise the claim is dropped and
-- the caller stores the error it answers (draft_decision_remember), except for answers that are
-- worth retrying (kill switch, paused agent). Old ids are purged here: 15 minutes is more than
-- twice the 5-minute timestamp tolerance, after which a replay is refused as stale anyway.
-- Outcome 'replayed' returns the stored answer in (status, response, error_*).
CREATE OR REPLACE FUNCTION draft_decide_once(p_forum text, p_webhook_id text, p_id uuid,
    p_decision text, p_revision integer, p_actor_id text, p_actor_name text, p_reason text,
    p_needs_coapproval boolean)
RETURNS TABLE (outcome text, state text, revision integer, status integer, response text,
    error_code text, error_field text, error_message text)
LANGUAGE plpgsql AS $$
DECLARE
    v_result record;
    v_response text;
BEGIN
    DELETE FROM forum_decision_requests r WHERE r.received_at < now() - interval '15 minutes';
    INSERT INTO forum_decision_requests (forum, webhook_id, draft_id, status)
        VALUES (p_forum, p_webhook_id, p_id, 0)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'replayed'::text, NULL::text, NULL::integer, r.status, r.response,
                r.error_code, r.error_field, r.error_message
            FROM forum_decision_requests r
            WHERE r.forum = p_forum AND r.webhook_id = p_webhook_id;
        RETURN;
    END IF;
    SELECT * INTO v_result FROM draft_decide(p_id, p_forum, p_decision, p_revision, p_actor_id,
        p_actor_name, p_reason, 'forum', p_needs_coapproval) d;
    IF v_result.outcome <> 'decided' THEN
        DELETE FROM forum_decision_requests r
            WHERE r.forum = p_forum AND r.webhook_id = p_webhook_id;
        RETURN QUERY SELECT v_result.outcome, v_result.state, v_result.revision, NULL::integer,
            NULL::text, NULL::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    v_response := json_build_object('draft_id', p_id, 'state', v_result.state,
        'revision', v_result.revision)::text;
    UPDATE forum_decision_requests r SET status = 200, response = v_response
        WHERE r.forum = p_forum AND r.webhook_id = p_webhook_id;
    RETURN QUERY SELECT 'decided'::text, v_result.state, v_result.revision, 200, v_response,
        NULL::text, NULL::text, NULL::text;
END $$;
