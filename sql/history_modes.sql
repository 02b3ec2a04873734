-- history_modes: see the comment below; first defined in 0005_history.sql.
CREATE OR REPLACE FUNCTION history_modes(p_forum text, p_agent text, p_invoker text, p_decider text,
    OUT agent_mode text, OUT invoker_mode text, OUT decider_mode text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_agent IS NOT NULL THEN
        agent_mode := history_match(
            EXISTS (SELECT 1 FROM drafts d WHERE d.agent_id = p_agent AND d.forum = p_forum),
            EXISTS (SELECT 1 FROM drafts d WHERE d.agent_name = p_agent AND d.forum = p_forum
                AND d.agent_id <> p_agent));
    END IF;
    IF p_invoker IS NOT NULL THEN
        invoker_mode := history_match(
            EXISTS (SELECT 1 FROM drafts d WHERE d.invoker_id = p_invoker AND d.forum = p_forum),
            EXISTS (SELECT 1 FROM drafts d WHERE d.invoker_name = p_invoker AND d.forum = p_forum
                AND d.invoker_id <> p_invoker));
    END IF;
    IF p_decider IS NOT NULL THEN
        decider_mode := history_match(
            EXISTS (SELECT 1 FROM drafts d WHERE d.decided_by_id = p_decider
                AND d.forum = p_forum),
            EXISTS (SELECT 1 FROM drafts d WHERE d.decided_by_name = p_decider
                AND d.forum = p_forum AND d.decided_by_id IS DISTINCT FROM p_decider));
    END IF;
END $$;
