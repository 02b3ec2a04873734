-- Records one attempt and its consequence. p_result: 'delivered', 'retry', 'failed'
-- (retries exhausted), 'aborted' (410 or abort-message), 'skipped' (nothing to send),
-- 'revoked' (the re-check refused an approval).
CREATE OR REPLACE FUNCTION outbox_finish(p_id bigint, p_result text, p_http_status integer,
    p_duration_ms integer, p_error text, p_worker text, p_next_due timestamptz,
    p_post_id text, p_post_url text, p_revoke_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_event outbox%ROWTYPE;
    v_attempt integer;
BEGIN
    SELECT * INTO v_event FROM outbox WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_attempt := v_event.attempts + 1;
    IF p_result <> 'revoked' AND p_result <> 'skipped' THEN
        INSERT INTO delivery_attempts (webhook_id, draft_id, event_type, attempt, http_status,
                duration_ms, error, worker)
            VALUES (v_event.webhook_id, v_event.draft_id, v_event.event_type, v_attempt,
                p_http_status, p_duration_ms, p_error, p_worker);
        INSERT INTO audit_events (actor, action, forum, draft_id, details)
            VALUES ('agentgate', 'delivery.attempt', v_event.forum, v_event.draft_id,
                jsonb_strip_nulls(jsonb_build_object('webhook_id', v_event.webhook_id,
                    'type', v_event.event_type, 'attempt', v_attempt,
                    'http_status', p_http_status, 'duration_ms', p_duration_ms,
                    'error', p_error, 'result', p_result)));
    END IF;

    IF p_result = 'retry' THEN
        UPDATE outbox SET attempts = v_attempt, due_at = p_next_due, last_error = p_error
            WHERE id = p_id;
        RETURN;
    END IF;

    INSERT INTO deliveries (webhook_id, draft_id, forum, event_type, payload, created_at,
            outcome, attempts, post_id, post_url)
        VALUES (v_event.webhook_id, v_event.draft_id, v_event.forum, v_event.event_type,
            v_event.payload, v_event.created_at,
            CASE p_result WHEN 'revoked' THEN 'superseded' ELSE p_result END,
            CASE WHEN p_result IN ('revoked', 'skipped') THEN v_event.attempts ELSE v_attempt END,
            p_post_id, p_post_url);
    DELETE FROM outbox WHERE id = p_id;

    IF v_event.event_type = 'draft.approved' THEN
        IF p_result = 'delivered' OR p_result = 'skipped' THEN
            UPDATE drafts SET state = 'released', post_id = nullif(p_post_id, ''),
                    post_url = nullif(p_post_url, ''), updated_at = now()
                WHERE id = v_event.draft_id AND state = 'approved';
            INSERT INTO audit_events (actor, action, forum, draft_id, details)
                VALUES ('agentgate', 'draft.release', v_event.forum, v_event.draft_id,
                    jsonb_strip_nulls(jsonb_build_object('webhook_id', v_event.webhook_id,
                        'post_id', nullif(p_post_id, ''), 'post_url', nullif(p_post_url, ''))));
        ELSIF p_result IN ('failed', 'aborted') THEN
            UPDATE drafts SET state = 'release_failed', updated_at = now()
                WHERE id = v_event.draft_id AND state = 'approved';
            INSERT INTO audit_events (actor, action, forum, draft_id, details)
                VALUES ('agentgate', 'draft.release_failed', v_event.forum, v_event.draft_id,
                    jsonb_strip_nulls(jsonb_build_object('webhook_id', v_event.webhook_id,
                        'attempts', v_attempt, 'error', p_error, 'result', p_result)));
        ELSIF p_result = 'revoked' THEN
            -- the re-check stopped the approval: revoke the draft, unless it is no longer
            -- approved (a moderator revoked it first; the re-check holds its row lock)
            IF EXISTS (SELECT 1 FROM drafts WHERE id = v_event.draft_id AND state = 'approved') THEN
                PERFORM draft_revoke(v_event.draft_id, 'agentgate', p_revoke_reason,
                    'delivery re-check');
            END IF;
        END IF;
    END IF;
END $$;
