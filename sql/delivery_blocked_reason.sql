-- Just before an approval goes out: may it still go? Returns NULL when it may, else why not:
-- the draft is no longer approved (a moderator revoked it while its delivery was being
-- retried), the kill switch is on, or the agent is paused.
--
-- It locks the draft's row for the rest of the delivery's transaction, so a moderator's revoke
-- waits for a delivery in flight (at most the delivery timeout) and then finds the draft
-- released, or comes first and is seen here. It takes the kill switch's and the agent's locks
-- shared, so a switch flipped now waits for this delivery to finish and any later delivery
-- sees it.
CREATE OR REPLACE FUNCTION delivery_blocked_reason(p_draft_id uuid, p_forum text, p_agent_id text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_engaged boolean;
    v_paused boolean;
BEGIN
    SELECT d.state INTO v_state FROM drafts d WHERE d.id = p_draft_id FOR NO KEY UPDATE;
    IF v_state IS DISTINCT FROM 'approved' THEN
        RETURN 'draft is ' || coalesce(v_state, 'gone');
    END IF;
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
