-- Records an intake refused by policy before it reached intake_hold (403, 400 after a valid
-- signature).
CREATE OR REPLACE FUNCTION intake_refuse(p_forum text, p_webhook_id text, p_agent_id text, p_reason text,
    p_field text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES (CASE WHEN p_agent_id IS NULL THEN 'forum:' || p_forum ELSE 'agent:' || p_agent_id END,
            'intake.refused', p_forum,
            jsonb_strip_nulls(jsonb_build_object('webhook_id', p_webhook_id, 'reason', p_reason,
                'field', p_field)));
$$;
