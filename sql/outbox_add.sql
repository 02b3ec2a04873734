-- Queues one event about a draft, with the draft's current revision as the post. `p_extra`
-- adds type-specific data (approved_by, reason, ...). A given p_webhook_id re-queues an event
-- under its old id (a moderator's retry).
CREATE OR REPLACE FUNCTION outbox_add(p_draft_id uuid, p_type text, p_extra jsonb,
    p_webhook_id text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_draft drafts%ROWTYPE;
    v_revision draft_revisions%ROWTYPE;
    v_webhook_id text := coalesce(p_webhook_id, 'evt_' || replace(gen_random_uuid()::text, '-', ''));
BEGIN
    SELECT * INTO v_draft FROM drafts WHERE id = p_draft_id;
    SELECT * INTO v_revision FROM draft_revisions
        WHERE draft_id = p_draft_id AND revision = v_draft.revision;
    INSERT INTO outbox (draft_id, forum, event_type, webhook_id, payload)
        VALUES (p_draft_id, v_draft.forum, p_type, v_webhook_id, jsonb_build_object(
            'type', p_type,
            'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'data', jsonb_build_object(
                'draft_id', v_draft.id,
                'forum', v_draft.forum,
                'agent', jsonb_build_object('id', v_draft.agent_id, 'name', v_draft.agent_name),
                'invoker', jsonb_build_object('id', v_draft.invoker_id,
                    'name', v_draft.invoker_name),
                'post', jsonb_build_object('topic_id', v_draft.topic_id,
                    'reply_to_post_id', v_draft.reply_to_post_id, 'category', v_draft.category,
                    'title', v_revision.title, 'body', v_revision.body,
                    'forum_ref', v_draft.forum_ref),
                'revision', v_draft.revision,
                'flags', v_draft.flags) || coalesce(p_extra, '{}')));
    RETURN v_webhook_id;
END $$;
