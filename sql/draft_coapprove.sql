-- A moderator's co-approval. Outcomes: 'coapproved', 'not_found', 'not_awaiting',
-- 'forbidden' (the invoker, the delegate, the first approver or the agent), and
-- 'kill_switch_on' / 'agent_paused' while agents are stopped (the approval keeps waiting).
CREATE OR REPLACE FUNCTION draft_coapprove(p_id uuid, p_forum text, p_actor_id text, p_actor_name text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_blocked text;
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF v_draft.state <> 'approved' OR NOT v_draft.coapproval_pending THEN
        RETURN 'not_awaiting';
    END IF;
    IF p_actor_id IN (v_draft.invoker_id, v_draft.agent_id)
       OR p_actor_id IS NOT DISTINCT FROM v_draft.delegate_id
       OR p_actor_id IS NOT DISTINCT FROM v_draft.decided_by_id THEN
        RETURN 'forbidden';
    END IF;
    v_blocked := delivery_blocked_reason(v_draft.forum, v_draft.agent_id);
    IF v_blocked IS NOT NULL THEN
        RETURN CASE WHEN v_blocked = 'kill switch on' THEN 'kill_switch_on' ELSE 'agent_paused' END;
    END IF;
    UPDATE drafts SET coapproval_pending = false, coapproved_by_id = p_actor_id,
            coapproved_by_name = p_actor_name, coapproved_at = now(), updated_at = now()
        WHERE id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id, 'draft.coapprove', p_forum, p_id,
            jsonb_build_object('actor_name', p_actor_name, 'revision', v_draft.revision));
    PERFORM outbox_add(p_id, 'draft.approved', jsonb_build_object(
        'approved_by', jsonb_build_object('id', v_draft.decided_by_id,
            'name', v_draft.decided_by_name),
        'approved_at', to_char(v_draft.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'co_approved_by', jsonb_build_object('id', p_actor_id, 'name', p_actor_name)));
    RETURN 'coapproved';
END $$;
