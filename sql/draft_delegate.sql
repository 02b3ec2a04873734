-- Hands a pending draft to a colleague of the same forum, who then decides in the invoker's
-- place. Only the invoker delegates. Outcomes: 'delegated', 'not_found', 'forbidden',
-- 'not_pending', 'unknown_user'.
CREATE OR REPLACE FUNCTION draft_delegate(p_id uuid, p_forum text, p_actor_id text, p_actor_name text,
    p_username text)
RETURNS TABLE (outcome text, delegate_id text, delegate_name text)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_user users%ROWTYPE;
BEGIN
    SELECT * INTO v_draft FROM drafts d WHERE d.id = p_id AND d.forum = p_forum FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF p_actor_id IS DISTINCT FROM v_draft.invoker_id THEN
        RETURN QUERY SELECT 'forbidden'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    IF v_draft.state <> 'pending' THEN
        RETURN QUERY SELECT 'not_pending'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    SELECT * INTO v_user FROM users u
        WHERE u.forum = p_forum AND lower(u.username) = lower(p_username)
        ORDER BY u.last_sign_in_at DESC LIMIT 1;
    IF NOT FOUND OR v_user.user_id = v_draft.agent_id OR v_user.user_id = v_draft.invoker_id THEN
        RETURN QUERY SELECT 'unknown_user'::text, NULL::text, NULL::text;
        RETURN;
    END IF;
    UPDATE drafts d SET delegate_id = v_user.user_id, delegate_name = v_user.username,
            updated_at = now()
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id, 'draft.delegate', p_forum, p_id,
            jsonb_build_object('actor_name', p_actor_name, 'delegate_id', v_user.user_id,
                'delegate_name', v_user.username));
    RETURN QUERY SELECT 'delegated'::text, v_user.user_id, v_user.username;
END $$;
