-- Pauses or resumes one agent of a forum, audited; pausing may revoke the agent's pending drafts
-- (the forum is told of each). p_actor is the audit actor (`user:<id>` or `cli:<unix user>`),
-- p_actor_name the person's name (NULL for the CLI): a revoked draft records a moderator as
-- its decider by id and name, as a bulk revoke does. Returns how many drafts were revoked.
CREATE OR REPLACE FUNCTION agent_set_paused(p_forum text, p_agent_id text, p_paused boolean,
    p_reason text, p_actor text, p_actor_name text, p_revoke_pending boolean)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_revoked integer := 0;
    v_draft record;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key('agent'), hashtext(p_forum || '/' || p_agent_id));
    INSERT INTO agents (forum, agent_id, name) VALUES (p_forum, p_agent_id, p_agent_id)
        ON CONFLICT DO NOTHING;
    UPDATE agents SET paused = p_paused,
            pause_reason = CASE WHEN p_paused THEN p_reason END,
            paused_by = CASE WHEN p_paused THEN p_actor END,
            paused_by_name = CASE WHEN p_paused THEN p_actor_name END,
            paused_at = CASE WHEN p_paused THEN now() END
        WHERE forum = p_forum AND agent_id = p_agent_id;
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES (p_actor, CASE WHEN p_paused THEN 'agent.pause' ELSE 'agent.resume' END, p_forum,
            jsonb_strip_nulls(jsonb_build_object('agent_id', p_agent_id, 'reason', p_reason,
                'revoke_pending', p_paused AND p_revoke_pending, 'actor_name', p_actor_name)));
    IF p_paused AND p_revoke_pending THEN
        FOR v_draft IN SELECT id FROM drafts
                WHERE forum = p_forum AND agent_id = p_agent_id AND state = 'pending'
                ORDER BY created_at FOR UPDATE LOOP
            PERFORM draft_revoke(v_draft.id, p_actor, p_reason, 'agent.pause');
            IF p_actor LIKE 'user:%' THEN
                UPDATE drafts SET decided_by_id = substr(p_actor, 6),
                        decided_by_name = coalesce(p_actor_name, p_actor)
                    WHERE id = v_draft.id;
            END IF;
            v_revoked := v_revoked + 1;
        END LOOP;
    END IF;
    RETURN v_revoked;
END $$;
