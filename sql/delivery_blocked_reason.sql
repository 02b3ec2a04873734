-- Just before an approval goes out: is the agent still allowed? Takes the kill switch's and
-- the agent's locks shared, so a switch flipped now waits for this delivery to finish and any
-- later delivery sees it. Returns NULL when allowed, else why not.
CREATE OR REPLACE FUNCTION delivery_blocked_reason(p_forum text, p_agent_id text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_engaged boolean;
    v_paused boolean;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(lock_key('kill_switch'), 0);
    PERFORM pg_advisory_xact_lock_shared(lock_key('agent'), hashtext(p_forum || '/' || p_agent_id));
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
