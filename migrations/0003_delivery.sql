-- Release: a transactional outbox of events for the forum, the history of deliveries and
-- every attempt, expiry of pending drafts. Decisions, revocations and expiries write their
-- outbox row in the same transaction as the state change; the delivery worker wakes on
-- NOTIFY agentgate_outbox and claims due rows with FOR UPDATE SKIP LOCKED.

-- Only events still to deliver live here, so the table stays small: a delivered or abandoned
-- event moves to deliveries. Frequent updates and deletes: leave room for HOT updates and
-- vacuum it eagerly.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    draft_id uuid NOT NULL REFERENCES drafts (id),
    forum text NOT NULL,
    event_type text NOT NULL CHECK (event_type IN ('draft.approved', 'draft.rejected',
        'draft.expired', 'draft.revoked', 'draft.expiring')),
    webhook_id text NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    due_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.0,
        autovacuum_vacuum_threshold = 200, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX outbox_due ON outbox (due_at, id);
CREATE INDEX outbox_draft ON outbox (draft_id, id);

CREATE TABLE deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id text NOT NULL,
    draft_id uuid NOT NULL,
    forum text NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'aborted', 'skipped',
        'superseded')),
    attempts integer NOT NULL,
    post_id text,
    post_url text
);
CREATE INDEX deliveries_draft ON deliveries (draft_id, id);

CREATE TABLE delivery_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id text NOT NULL,
    draft_id uuid NOT NULL,
    event_type text NOT NULL,
    attempt integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    http_status integer,
    duration_ms integer NOT NULL,
    error text,
    worker text NOT NULL
);
CREATE INDEX delivery_attempts_draft ON delivery_attempts (draft_id, id);

ALTER TABLE drafts ADD COLUMN expiring_notified boolean NOT NULL DEFAULT false;

-- Wakes delivery workers once the inserting transaction commits (NOTIFY is transactional).
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agentgate_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Queues one event about a draft, with the draft's current revision as the post. `p_extra`
-- adds type-specific data (approved_by, reason, ...). A given p_webhook_id re-queues an event
-- under its old id (a moderator's retry).
CREATE FUNCTION outbox_add(p_draft_id uuid, p_type text, p_extra jsonb,
    p_webhook_id text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_revision draft_revisions%ROWTYPE;
    v_webhook_id text := coalesce(p_webhook_id, 'evt_' || replace(gen_random_uuid()::text, '-', ''));
BEGIN
    SELECT * INTO v_draft FROM drafts WHERE id = p_draft_id;
    SELECT * INTO v_revision FROM draft_revisions
        WHERE draft_id = p_draft_id AND revision = v_draft.revision;
    INSERT INTO outbox (draft_id, forum, event_type, webhook_id, payload)
        VALUES (p_draft_id, v_draft.forum, p_type, v_webhook_id, jsonb_build_object(
            'type', p_type,
            'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'data', jsonb_build_object(
                'draft_id', v_draft.id,
                'forum', v_draft.forum,
                'agent', jsonb_build_object('id', v_draft.agent_id, 'name', v_draft.agent_name),
                'invoker', jsonb_build_object('id', v_draft.invoker_id,
                    'name', v_draft.invoker_name),
                'post', jsonb_build_object('topic_id', v_draft.topic_id,
                    'reply_to_post_id', v_draft.reply_to_post_id, 'category', v_draft.category,
                    'title', v_revision.title, 'body', v_revision.body,
                    'forum_ref', v_draft.forum_ref),
                'revision', v_draft.revision,
                'flags', v_draft.flags) || coalesce(p_extra, '{}')));
    RETURN v_webhook_id;
END $$;

-- Decisions now queue their event for the forum in the same transaction.
CREATE OR REPLACE FUNCTION draft_decide(p_id uuid, p_forum text, p_decision text,
    p_revision integer, p_actor_id text, p_actor_name text, p_reason text, p_source text)
RETURNS TABLE (outcome text, state text, revision integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_on_behalf_of text;
    v_at text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF p_actor_id = v_draft.agent_id
       OR p_actor_id IS DISTINCT FROM v_draft.invoker_id
          AND p_actor_id IS DISTINCT FROM v_draft.delegate_id THEN
        RETURN QUERY SELECT 'forbidden'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF v_draft.state <> 'pending' THEN
        RETURN QUERY SELECT 'not_pending'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_revision IS NOT NULL AND p_revision <> v_draft.revision THEN
        RETURN QUERY SELECT 'revision_changed'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_actor_id IS DISTINCT FROM v_draft.invoker_id THEN
        v_on_behalf_of := v_draft.invoker_name;
    END IF;
    UPDATE drafts d SET state = CASE WHEN p_decision = 'approve' THEN 'approved' ELSE 'rejected' END,
            decided_at = now(), decided_by_id = p_actor_id, decided_by_name = p_actor_name,
            decision_reason = p_reason, updated_at = now()
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id,
            CASE WHEN p_decision = 'approve' THEN 'draft.approve' ELSE 'draft.reject' END,
            p_forum, p_id,
            jsonb_strip_nulls(jsonb_build_object('revision', v_draft.revision,
                'actor_name', p_actor_name, 'reason', p_reason,
                'on_behalf_of', v_on_behalf_of, 'source', p_source)));
    IF p_decision = 'approve' THEN
        PERFORM outbox_add(p_id, 'draft.approved', jsonb_strip_nulls(jsonb_build_object(
            'approved_by', jsonb_build_object('id', p_actor_id, 'name', p_actor_name),
            'approved_at', v_at, 'on_behalf_of', v_on_behalf_of)));
    ELSE
        PERFORM outbox_add(p_id, 'draft.rejected', jsonb_strip_nulls(jsonb_build_object(
            'rejected_by', jsonb_build_object('id', p_actor_id, 'name', p_actor_name),
            'rejected_at', v_at, 'reason', p_reason, 'on_behalf_of', v_on_behalf_of)));
    END IF;
    RETURN QUERY SELECT 'decided'::text,
        CASE WHEN p_decision = 'approve' THEN 'approved' ELSE 'rejected' END, v_draft.revision;
END $$;

-- Revoking pending drafts of a paused agent tells the forum too.
CREATE OR REPLACE FUNCTION agent_set_paused(p_forum text, p_agent_id text, p_paused boolean,
    p_reason text, p_actor text, p_revoke_pending boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_revoked integer := 0;
    v_draft record;
BEGIN
    PERFORM pg_advisory_xact_lock(1095189320, hashtext(p_forum || '/' || p_agent_id));
    INSERT INTO agents (forum, agent_id, name) VALUES (p_forum, p_agent_id, p_agent_id)
        ON CONFLICT DO NOTHING;
    UPDATE agents SET paused = p_paused,
            pause_reason = CASE WHEN p_paused THEN p_reason END,
            paused_by = CASE WHEN p_paused THEN p_actor END,
            paused_at = CASE WHEN p_paused THEN now() END
        WHERE forum = p_forum AND agent_id = p_agent_id;
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES (p_actor, CASE WHEN p_paused THEN 'agent.pause' ELSE 'agent.resume' END, p_forum,
            jsonb_strip_nulls(jsonb_build_object('agent_id', p_agent_id, 'reason', p_reason,
                'revoke_pending', p_paused AND p_revoke_pending)));
    IF p_paused AND p_revoke_pending THEN
        FOR v_draft IN SELECT id FROM drafts
                WHERE forum = p_forum AND agent_id = p_agent_id AND state = 'pending'
                ORDER BY created_at FOR UPDATE LOOP
            PERFORM draft_revoke(v_draft.id, p_actor, p_reason, 'agent.pause');
            v_revoked := v_revoked + 1;
        END LOOP;
    END IF;
    RETURN v_revoked;
END $$;

-- Revokes a pending or approved (not yet released) draft, audited, the forum told.
-- The caller holds the row lock or is inside the transaction that read it.
CREATE FUNCTION draft_revoke(p_id uuid, p_actor text, p_reason text, p_cause text)
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

-- Expires pending drafts past their time (at most p_limit per call, skipping rows another
-- process holds) and queues reminders for those expiring within p_remind_before. Returns
-- the number expired.
CREATE FUNCTION drafts_expire_due(p_limit integer)
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

CREATE FUNCTION drafts_remind_expiring(p_forum text, p_before interval, p_limit integer)
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

-- Claims the next due event whose draft has no earlier event still queued (events of one
-- draft go out in order), locking it for this transaction; other processes skip it.
CREATE FUNCTION outbox_claim()
RETURNS SETOF outbox
LANGUAGE sql AS $$
    SELECT o.* FROM outbox o
        WHERE o.due_at <= now()
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.draft_id = o.draft_id AND p.id < o.id)
        ORDER BY o.due_at, o.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
$$;

-- Just before an approval goes out: is the agent still allowed? Takes the kill switch's and
-- the agent's locks shared, so a switch flipped now waits for this delivery to finish and any
-- later delivery sees it. Returns NULL when allowed, else why not.
CREATE FUNCTION delivery_blocked_reason(p_forum text, p_agent_id text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_engaged boolean;
    v_paused boolean;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1095189319, 0);
    PERFORM pg_advisory_xact_lock_shared(1095189320, hashtext(p_forum || '/' || p_agent_id));
    SELECT engaged INTO v_engaged FROM killswitch;
    IF v_engaged THEN
        RETURN 'kill switch on';
    END IF;
    SELECT paused INTO v_paused FROM agents WHERE forum = p_forum AND agent_id = p_agent_id;
    IF v_paused THEN
        RETURN 'agent paused';
    END IF;
    RETURN NULL;
END $$;

-- Records one attempt and its consequence. p_result: 'delivered', 'retry', 'failed'
-- (retries exhausted), 'aborted' (410 or abort-message), 'skipped' (nothing to send),
-- 'revoked' (the re-check refused an approval).
CREATE FUNCTION outbox_finish(p_id bigint, p_result text, p_http_status integer,
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
            PERFORM draft_revoke(v_event.draft_id, 'agentgate', p_revoke_reason,
                'delivery re-check');
        END IF;
    END IF;
END $$;

-- A moderator's retry of a draft whose release failed: back to approved, its approval event
-- queued again under the same webhook-id so the forum can drop a duplicate.
CREATE FUNCTION delivery_retry(p_id uuid, p_actor text)
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
            jsonb_build_object('webhook_id', v_delivery.webhook_id));
    RETURN 'retried';
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO agentgate_app;
        GRANT SELECT, INSERT ON deliveries, delivery_attempts TO agentgate_app;
        GRANT EXECUTE ON FUNCTION outbox_add, draft_revoke, drafts_expire_due,
            drafts_remind_expiring, outbox_claim, delivery_blocked_reason, outbox_finish,
            delivery_retry TO agentgate_app;
    END IF;
END $$;
