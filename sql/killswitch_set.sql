-- Turns the kill switch on or off for every agent of every forum, audited. p_actor is the audit
-- actor (`user:<id>` or `cli:<unix user>`), p_actor_name the person's name (NULL for the CLI).
-- Returns whether it was on before.
CREATE OR REPLACE FUNCTION killswitch_set(p_engaged boolean, p_reason text, p_actor text,
    p_actor_name text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_was boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key('kill_switch'), 0);
    SELECT k.engaged INTO v_was FROM killswitch k FOR UPDATE;
    UPDATE killswitch SET engaged = p_engaged, reason = p_reason, changed_by = p_actor,
        changed_by_name = p_actor_name, changed_at = now();
    INSERT INTO audit_events (actor, action, details)
        VALUES (p_actor, CASE WHEN p_engaged THEN 'killswitch.on' ELSE 'killswitch.off' END,
            jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'was_engaged', v_was,
                'actor_name', p_actor_name)));
    RETURN v_was;
END $$;
