-- Approves or rejects a pending draft for its invoker or delegate, bound to the revision seen.
-- Outcomes: 'decided', 'not_found', 'forbidden', 'not_pending', 'revision_changed', and for an
-- approval while the kill switch is on or the agent paused, 'kill_switch_on' / 'agent_paused':
-- the draft then stays pending so that the review is not lost (it can be approved once the
-- agents are resumed). delivery_blocked_reason takes the switch's and the agent's locks shared,
-- so a switch flipped concurrently waits for this transaction, and an approval that commits
-- before it is revoked by the delivery-time check as before.
CREATE OR REPLACE FUNCTION draft_decide(p_id uuid, p_forum text, p_decision text, p_revision integer,
    p_actor_id text, p_actor_name text, p_reason text, p_source text,
    p_needs_coapproval boolean)
RETURNS TABLE (outcome text, state text, revision integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_blocked text;
    v_on_behalf_of text;
    v_at text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;
    IF p_actor_id = v_draft.agent_id
       OR p_actor_id IS DISTINCT FROM v_draft.invoker_id
          AND p_actor_id IS DISTINCT FROM v_draft.delegate_id THEN
        RETURN QUERY SELECT 'forbidden'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF v_draft.state <> 'pending' THEN
        RETURN QUERY SELECT 'not_pending'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_revision IS NOT NULL AND p_revision <> v_draft.revision THEN
        RETURN QUERY SELECT 'revision_changed'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    IF p_decision = 'approve' THEN
        v_blocked := delivery_blocked_reason(v_draft.forum, v_draft.agent_id);
        IF v_blocked IS NOT NULL THEN
            RETURN QUERY SELECT CASE WHEN v_blocked = 'kill switch on' THEN 'kill_switch_on'
                ELSE 'agent_paused' END, v_draft.state, v_draft.revision;
            RETURN;
        END IF;
    END IF;
    IF p_actor_id IS DISTINCT FROM v_draft.invoker_id THEN
        v_on_behalf_of := v_draft.invoker_name;
    END IF;
    UPDATE drafts d SET state = CASE WHEN p_decision = 'approve' THEN 'approved' ELSE 'rejected' END,
            decided_at = now(), decided_by_id = p_actor_id, decided_by_name = p_actor_name,
            decision_reason = p_reason, updated_at = now(),
            coapproval_pending = (p_decision = 'approve' AND p_needs_coapproval)
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id,
            CASE WHEN p_decision = 'approve' THEN 'draft.approve' ELSE 'draft.reject' END,
            p_forum, p_id,
            jsonb_strip_nulls(jsonb_build_object('revision', v_draft.revision,
                'actor_name', p_actor_name, 'reason', p_reason,
                'on_behalf_of', v_on_behalf_of, 'source', p_source,
                'needs_coapproval', CASE WHEN p_decision = 'approve' AND p_needs_coapproval
                    THEN true END)));
    IF p_decision = 'approve' AND NOT p_needs_coapproval THEN
        PERFORM outbox_add(p_id, 'draft.approved', jsonb_strip_nulls(jsonb_build_object(
            'approved_by', jsonb_build_object('id', p_actor_id, 'name', p_actor_name),
            'approved_at', v_at, 'on_behalf_of', v_on_behalf_of)));
    ELSIF p_decision <> 'approve' THEN
        PERFORM outbox_add(p_id, 'draft.rejected', jsonb_strip_nulls(jsonb_build_object(
            'rejected_by', jsonb_build_object('id', p_actor_id, 'name', p_actor_name),
            'rejected_at', v_at, 'reason', p_reason, 'on_behalf_of', v_on_behalf_of)));
    END IF;
    RETURN QUERY SELECT 'decided'::text,
        CASE WHEN p_decision = 'approve' THEN 'approved' ELSE 'rejected' END, v_draft.revision;
END $$;
