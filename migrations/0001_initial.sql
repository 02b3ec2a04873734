-- agentgate initial schema: drafts, their revisions, agents, the kill switch and the audit log.
-- Invariants enforced here as well as in C: draft states and their transitions, one draft per
-- (forum, webhook-id), audit events that can only be appended.

CREATE TABLE killswitch (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    engaged boolean NOT NULL DEFAULT false,
    reason text,
    changed_by text,
    changed_at timestamptz
);
INSERT INTO killswitch (singleton) VALUES (true);

CREATE TABLE agents (
    forum text NOT NULL,
    agent_id text NOT NULL,
    name text NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    pause_reason text,
    paused_by text,
    paused_at timestamptz,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (forum, agent_id)
);

CREATE TABLE drafts (
    id uuid PRIMARY KEY,
    forum text NOT NULL,
    webhook_id text NOT NULL,
    agent_id text NOT NULL,
    agent_name text NOT NULL,
    invoker_id text NOT NULL,
    invoker_name text NOT NULL,
    topic_id text,
    reply_to_post_id text,
    category text,
    forum_ref text,
    context jsonb,
    flags jsonb NOT NULL DEFAULT '[]',
    state text NOT NULL DEFAULT 'pending',
    revision integer NOT NULL DEFAULT 1,
    intake_response text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    decided_at timestamptz,
    decided_by_id text,
    decided_by_name text,
    decision_reason text,
    delegate_id text,
    delegate_name text,
    post_id text,
    post_url text,
    CONSTRAINT drafts_state_valid CHECK (state IN ('pending', 'approved', 'released',
        'release_failed', 'rejected', 'expired', 'revoked')),
    CONSTRAINT drafts_webhook_once UNIQUE (forum, webhook_id),
    CONSTRAINT drafts_target_named CHECK (topic_id IS NOT NULL OR category IS NOT NULL),
    CONSTRAINT drafts_agent_not_invoker CHECK (agent_id <> invoker_id)
);
CREATE INDEX drafts_agent_recent ON drafts (forum, agent_id, created_at);
CREATE INDEX drafts_invoker_recent ON drafts (forum, invoker_id, created_at DESC);
CREATE INDEX drafts_pending_expiry ON drafts (expires_at) WHERE state = 'pending';

-- Allowed state changes (CONTRACT §1). Everything else is refused by the database itself.
CREATE FUNCTION draft_state_transition_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = NEW.state THEN
        RETURN NEW;
    END IF;
    IF (OLD.state, NEW.state) IN (('pending', 'approved'), ('pending', 'rejected'),
            ('pending', 'expired'), ('pending', 'revoked'), ('approved', 'released'),
            ('approved', 'release_failed'), ('approved', 'revoked'),
            ('release_failed', 'approved'), ('release_failed', 'revoked')) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'draft % cannot go from % to %', OLD.id, OLD.state, NEW.state
        USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER drafts_state_transition BEFORE UPDATE OF state ON drafts
    FOR EACH ROW EXECUTE FUNCTION draft_state_transition_check();

CREATE TABLE draft_revisions (
    draft_id uuid NOT NULL REFERENCES drafts (id),
    revision integer NOT NULL CHECK (revision >= 1),
    title text,
    body text NOT NULL,
    author_id text NOT NULL,
    author_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (draft_id, revision)
);

CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    forum text,
    draft_id uuid,
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_draft ON audit_events (draft_id, id) WHERE draft_id IS NOT NULL;

-- The audit log is append-only, whoever connects.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- Holds one post. Returns one row: outcome ('held', 'duplicate', 'kill_switch_on',
-- 'agent_paused', 'rate_limited'), the answer body to send for 'held'/'duplicate', and
-- seconds to wait for 'rate_limited'. Everything it writes commits together or not at all.
--
-- Races: the kill switch and agent pauses change while holding an exclusive advisory lock
-- that every intake takes shared, so a post either commits before the switch or sees it.
-- The per-agent rate count runs under an exclusive per-agent lock so two posts cannot both
-- take the last slot. A concurrent duplicate waits on the unique key and then answers with
-- the first one's body.
CREATE FUNCTION intake_hold(
    p_forum text, p_webhook_id text, p_draft_id uuid,
    p_agent_id text, p_agent_name text, p_invoker_id text, p_invoker_name text,
    p_topic_id text, p_reply_to_post_id text, p_category text, p_title text, p_body text,
    p_forum_ref text, p_context jsonb, p_flags jsonb, p_response text,
    p_rate_count integer, p_rate_window interval, p_ttl interval)
RETURNS TABLE (outcome text, response text, retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_existing text;
    v_engaged boolean;
    v_paused boolean;
    v_count integer;
    v_oldest timestamptz;
    v_agent_key integer := hashtext(p_forum || '/' || p_agent_id);
    v_actor text := 'agent:' || p_agent_id;
    v_details jsonb := jsonb_build_object('webhook_id', p_webhook_id,
        'agent', jsonb_build_object('id', p_agent_id, 'name', p_agent_name),
        'invoker', jsonb_build_object('id', p_invoker_id, 'name', p_invoker_name));
BEGIN
    SELECT d.intake_response INTO v_existing
        FROM drafts d WHERE d.forum = p_forum AND d.webhook_id = p_webhook_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, v_existing, NULL::integer;
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock_shared(1095189319, 0);
    SELECT k.engaged INTO v_engaged FROM killswitch k;
    IF v_engaged THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "kill_switch_on"}');
        RETURN QUERY SELECT 'kill_switch_on'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock_shared(1095189320, v_agent_key);
    SELECT a.paused INTO v_paused FROM agents a
        WHERE a.forum = p_forum AND a.agent_id = p_agent_id;
    IF NOT FOUND THEN
        INSERT INTO agents (forum, agent_id, name) VALUES (p_forum, p_agent_id, p_agent_name)
            ON CONFLICT DO NOTHING;
        v_paused := false;
    END IF;
    IF v_paused THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "agent_paused"}');
        RETURN QUERY SELECT 'agent_paused'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;

    IF p_rate_count > 0 THEN
        PERFORM pg_advisory_xact_lock(1095189321, v_agent_key);
        SELECT count(*), min(r.created_at) INTO v_count, v_oldest FROM (
            SELECT d.created_at FROM drafts d
                WHERE d.forum = p_forum AND d.agent_id = p_agent_id
                  AND d.created_at > now() - p_rate_window
                ORDER BY d.created_at LIMIT p_rate_count) r;
        IF v_count >= p_rate_count THEN
            INSERT INTO audit_events (actor, action, forum, details)
                VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "rate_limited"}');
            RETURN QUERY SELECT 'rate_limited'::text, NULL::text,
                GREATEST(1, ceil(extract(epoch FROM v_oldest + p_rate_window - now())))::integer;
            RETURN;
        END IF;
    END IF;

    INSERT INTO drafts (id, forum, webhook_id, agent_id, agent_name, invoker_id, invoker_name,
            topic_id, reply_to_post_id, category, forum_ref, context, flags, intake_response,
            expires_at)
        VALUES (p_draft_id, p_forum, p_webhook_id, p_agent_id, p_agent_name, p_invoker_id,
            p_invoker_name, p_topic_id, p_reply_to_post_id, p_category, p_forum_ref, p_context,
            p_flags, p_response, now() + p_ttl)
        ON CONFLICT (forum, webhook_id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT d.intake_response INTO v_existing
            FROM drafts d WHERE d.forum = p_forum AND d.webhook_id = p_webhook_id;
        RETURN QUERY SELECT 'duplicate'::text, v_existing, NULL::integer;
        RETURN;
    END IF;
    INSERT INTO draft_revisions (draft_id, revision, title, body, author_id, author_name)
        VALUES (p_draft_id, 1, p_title, p_body, p_agent_id, p_agent_name);
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES (v_actor, 'intake.held', p_forum, p_draft_id,
            v_details || jsonb_build_object('flags', jsonb_array_length(p_flags)));
    RETURN QUERY SELECT 'held'::text, p_response, NULL::integer;
END $$;

-- Records an intake refused by policy before it reached intake_hold (403, 400 after a valid
-- signature).
CREATE FUNCTION intake_refuse(p_forum text, p_webhook_id text, p_agent_id text, p_reason text,
    p_field text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES (CASE WHEN p_agent_id IS NULL THEN 'forum:' || p_forum ELSE 'agent:' || p_agent_id END,
            'intake.refused', p_forum,
            jsonb_strip_nulls(jsonb_build_object('webhook_id', p_webhook_id, 'reason', p_reason,
                'field', p_field)));
$$;

-- Turns the kill switch on or off for every agent of every forum.
CREATE FUNCTION killswitch_set(p_engaged boolean, p_reason text, p_actor text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_was boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(1095189319, 0);
    SELECT k.engaged INTO v_was FROM killswitch k FOR UPDATE;
    UPDATE killswitch SET engaged = p_engaged, reason = p_reason, changed_by = p_actor,
        changed_at = now();
    INSERT INTO audit_events (actor, action, details)
        VALUES (p_actor, CASE WHEN p_engaged THEN 'killswitch.on' ELSE 'killswitch.off' END,
            jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'was_engaged', v_was)));
    RETURN v_was;
END $$;

-- Pauses or resumes one agent; when pausing with p_revoke_pending, its pending drafts become
-- revoked. Returns the number of drafts revoked.
CREATE FUNCTION agent_set_paused(p_forum text, p_agent_id text, p_paused boolean, p_reason text,
    p_actor text, p_revoke_pending boolean)
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
            UPDATE drafts SET state = 'revoked', decided_at = now(), decision_reason = p_reason,
                    decided_by_name = p_actor, updated_at = now()
                WHERE id = v_draft.id;
            INSERT INTO audit_events (actor, action, forum, draft_id, details)
                VALUES (p_actor, 'draft.revoke', p_forum, v_draft.id,
                    jsonb_build_object('reason', p_reason, 'cause', 'agent.pause'));
            v_revoked := v_revoked + 1;
        END LOOP;
    END IF;
    RETURN v_revoked;
END $$;

-- Least privilege for the serving role, when the recommended role exists (see README.md).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT ON schema_migrations TO agentgate_app;
        GRANT SELECT, INSERT, UPDATE ON drafts, draft_revisions, agents, killswitch
            TO agentgate_app;
        GRANT SELECT, INSERT ON audit_events TO agentgate_app;
        GRANT EXECUTE ON FUNCTION intake_hold, intake_refuse, killswitch_set, agent_set_paused
            TO agentgate_app;
    END IF;
END $$;
