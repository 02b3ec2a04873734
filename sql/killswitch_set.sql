-- Turns the kill switch on or off for every agent of every forum.
CREATE OR REPLACE FUNCTION killswitch_set(p_engaged boolean, p_reason text, p_actor text)
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
