-- Saves an edit as a new revision, audited with its diff. Outcomes as draft_decide, plus
-- 'edited' with the new revision.
CREATE OR REPLACE FUNCTION draft_edit(p_id uuid, p_forum text, p_revision integer, p_title text,
    p_body text, p_actor_id text, p_actor_name text, p_diff jsonb, p_flags jsonb)
RETURNS TABLE (outcome text, state text, revision integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
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
    IF p_revision <> v_draft.revision THEN
        RETURN QUERY SELECT 'revision_changed'::text, v_draft.state, v_draft.revision;
        RETURN;
    END IF;
    INSERT INTO draft_revisions (draft_id, revision, title, body, author_id, author_name)
        VALUES (p_id, v_draft.revision + 1, p_title, p_body, p_actor_id, p_actor_name);
    UPDATE drafts d SET revision = v_draft.revision + 1, flags = p_flags, updated_at = now()
        WHERE d.id = p_id;
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES ('user:' || p_actor_id, 'draft.edit', p_forum, p_id,
            jsonb_build_object('from_revision', v_draft.revision,
                'to_revision', v_draft.revision + 1, 'actor_name', p_actor_name,
                'diff', p_diff, 'flags', jsonb_array_length(p_flags)));
    RETURN QUERY SELECT 'edited'::text, v_draft.state, v_draft.revision + 1;
END $$;
