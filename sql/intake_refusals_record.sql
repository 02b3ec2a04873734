-- Audits a flood of identical intake refusals as one counted event: `count` posts of one agent
-- refused for `p_reason` from the first to the last webhook-id, answered without a transaction
-- each (server/intake/intake_refusals.c). One event per agent and second at most, instead of
-- one row per refused post.
CREATE OR REPLACE FUNCTION intake_refusals_record(p_forum text, p_agent_id text, p_reason text,
    p_count integer, p_first_webhook_id text, p_last_webhook_id text, p_first_at timestamptz,
    p_last_at timestamptz)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES ('agent:' || p_agent_id, 'intake.refused', p_forum,
            jsonb_build_object('reason', p_reason, 'count', p_count,
                'webhook_id', p_first_webhook_id, 'last_webhook_id', p_last_webhook_id,
                'agent', jsonb_build_object('id', p_agent_id),
                'first_at', p_first_at, 'last_at', p_last_at));
$$;
