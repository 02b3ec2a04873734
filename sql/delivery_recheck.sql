-- Just before an approval goes out: may it still go? Returns NULL when it may, else why not:
-- the draft is no longer approved (a moderator revoked it while its delivery was being
-- retried), or delivery_blocked_reason() says the kill switch is on or the agent paused.
--
-- It locks the draft's row for the rest of the delivery's transaction, so a moderator's revoke
-- waits for a delivery in flight (at most the delivery timeout) and then finds the draft
-- released, or comes first and is seen here.
CREATE OR REPLACE FUNCTION delivery_recheck(p_draft_id uuid, p_forum text, p_agent_id text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
BEGIN
    SELECT d.state INTO v_state FROM drafts d WHERE d.id = p_draft_id FOR NO KEY UPDATE;
    IF v_state IS DISTINCT FROM 'approved' THEN
        RETURN 'draft is ' || coalesce(v_state, 'gone');
    END IF;
    RETURN delivery_blocked_reason(p_forum, p_agent_id);
END $$;
