-- Holds one post. Returns one row: outcome ('held', 'duplicate', 'kill_switch_on',
-- 'agent_paused', 'rate_limited'), the answer body to send for 'held'/'duplicate', and
-- seconds to wait for 'rate_limited'. Everything it writes commits together or not at all.
--
-- Durability: the transaction commits with synchronous_commit = off, and the caller answers
-- only after a durable commit that follows it (server/db/drafts.c: a transactional WAL message
-- committed with synchronous_commit on). The WAL is one sequence, so that later flush covers
-- this commit too: nothing is acknowledged before it is on disk (and on a synchronous standby).
-- What commits early is only visible early. If PostgreSQL crashes in between, a draft nobody
-- was told about may vanish; its forum got no 202 and sends it again. Anything durable that
-- builds on such a draft (an approval, a seal) flushes the WAL up to its own commit first, so it
-- cannot survive a draft that did not.
--
-- Why: locks are released after the commit. A durable commit holds them across the WAL flush
-- (milliseconds on real disks), so one agent's posts, which take the agent's row lock below,
-- queued one flush each. With the flush outside the lock they share flushes like everyone else's.
--
-- Races: the kill switch and agent pauses change while holding an exclusive advisory lock
-- that every intake takes shared, so a post either commits before the switch or sees it.
-- The agent's row (agents, locked FOR UPDATE) serialises that agent's intakes from the
-- pause check to the commit, across all serve processes; other agents never wait for it.
--
-- The rate limit (p_rate_count per p_rate_window, sliding): agents.admitted counts the drafts
-- held for the agent and drafts.agent_seq numbers them. Post number k is admitted when draft
-- k - p_rate_count was created more than p_rate_window ago. Under the row lock the previous
-- admissions are committed and visible, so k is exact: there are never more than p_rate_count
-- drafts of one agent in any window, however many processes race. The check is one index lookup
-- whatever the limit. A refused post changes no count. While an agent has fewer numbered drafts
-- than the limit, the drafts it had before migration 0060 (agent_seq NULL, all older than the
-- numbered ones) still in the window are counted as well.
--
-- A concurrent duplicate waits on the unique key (or on the agent's row) and then answers with
-- the first one's body.
CREATE OR REPLACE FUNCTION intake_hold(
    p_forum text, p_webhook_id text, p_draft_id uuid,
    p_agent_id text, p_agent_name text, p_invoker_id text, p_invoker_name text,
    p_topic_id text, p_reply_to_post_id text, p_category text, p_title text, p_body text,
    p_forum_ref text, p_context jsonb, p_flags jsonb, p_response text,
    p_rate_count integer, p_rate_window interval, p_ttl interval)
RETURNS TABLE (outcome text, response text, retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_existing text;
    v_engaged boolean;
    v_paused boolean;
    v_admitted bigint;
    v_oldest timestamptz;
    v_agent_key integer := hashtext(p_forum || '/' || p_agent_id);
    v_actor text := 'agent:' || p_agent_id;
    v_details jsonb := jsonb_build_object('webhook_id', p_webhook_id,
        'agent', jsonb_build_object('id', p_agent_id, 'name', p_agent_name),
        'invoker', jsonb_build_object('id', p_invoker_id, 'name', p_invoker_name));
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true); -- see "Durability" above
    SELECT d.intake_response INTO v_existing
        FROM drafts d WHERE d.forum = p_forum AND d.webhook_id = p_webhook_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, v_existing, NULL::integer;
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock_shared(1095189319, 0);
    SELECT k.engaged INTO v_engaged FROM killswitch k;
    IF v_engaged THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "kill_switch_on"}');
        RETURN QUERY SELECT 'kill_switch_on'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock_shared(1095189320, v_agent_key);
    SELECT a.paused, a.admitted INTO v_paused, v_admitted FROM agents a
        WHERE a.forum = p_forum AND a.agent_id = p_agent_id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO agents (forum, agent_id, name) VALUES (p_forum, p_agent_id, p_agent_name)
            ON CONFLICT DO NOTHING;
        SELECT a.paused, a.admitted INTO v_paused, v_admitted FROM agents a
            WHERE a.forum = p_forum AND a.agent_id = p_agent_id FOR UPDATE;
    END IF;
    IF v_paused THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "agent_paused"}');
        RETURN QUERY SELECT 'agent_paused'::text, NULL::text, NULL::integer;
        RETURN;
    END IF;

    IF p_rate_count > 0 AND v_admitted >= p_rate_count THEN
        SELECT d.created_at INTO v_oldest FROM drafts d
            WHERE d.agent_id = p_agent_id AND d.forum = p_forum
              AND d.agent_seq = v_admitted - p_rate_count + 1;
    ELSIF p_rate_count > 0 THEN
        -- Fewer numbered drafts than the limit: add the older unnumbered ones in the window.
        SELECT min(u.created_at) INTO v_oldest FROM (
            SELECT d.created_at FROM drafts d
                WHERE d.agent_id = p_agent_id AND d.forum = p_forum AND d.agent_seq IS NULL
                  AND d.created_at > now() - p_rate_window
                ORDER BY d.created_at DESC LIMIT p_rate_count - v_admitted) u
            HAVING count(*) >= p_rate_count - v_admitted;
    END IF;
    IF p_rate_count > 0 THEN
        IF v_oldest IS NOT NULL AND v_oldest > now() - p_rate_window THEN
            INSERT INTO audit_events (actor, action, forum, details)
                VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "rate_limited"}');
            RETURN QUERY SELECT 'rate_limited'::text, NULL::text,
                GREATEST(1, ceil(extract(epoch FROM v_oldest + p_rate_window - now())))::integer;
            RETURN;
        END IF;
    END IF;

    INSERT INTO drafts (id, forum, webhook_id, agent_id, agent_name, invoker_id, invoker_name,
            topic_id, reply_to_post_id, category, forum_ref, context, flags, intake_response,
            expires_at, agent_seq)
        VALUES (p_draft_id, p_forum, p_webhook_id, p_agent_id, p_agent_name, p_invoker_id,
            p_invoker_name, p_topic_id, p_reply_to_post_id, p_category, p_forum_ref, p_context,
            p_flags, p_response, now() + p_ttl, v_admitted + 1)
        ON CONFLICT (forum, webhook_id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT d.intake_response INTO v_existing
            FROM drafts d WHERE d.forum = p_forum AND d.webhook_id = p_webhook_id;
        RETURN QUERY SELECT 'duplicate'::text, v_existing, NULL::integer;
        RETURN;
    END IF;
    UPDATE agents SET admitted = v_admitted + 1 WHERE forum = p_forum AND agent_id = p_agent_id;
    INSERT INTO draft_revisions (draft_id, revision, title, body, author_id, author_name)
        VALUES (p_draft_id, 1, p_title, p_body, p_agent_id, p_agent_name);
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES (v_actor, 'intake.held', p_forum, p_draft_id,
            v_details || jsonb_build_object('flags', jsonb_array_length(p_flags)));
    RETURN QUERY SELECT 'held'::text, p_response, NULL::integer;
END $$;
