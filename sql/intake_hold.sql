-- Holds one post. Returns one row: outcome ('held', 'duplicate', 'kill_switch_on',
-- 'agent_paused', 'rate_limited'), the answer body to send for 'held'/'duplicate', and
-- seconds to wait for 'rate_limited'. A reply may carry its topic's title and link (shown to the
-- approver). Everything it writes commits together or not at all.
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
--
-- The rate limit (p_rate_count per p_rate_window, sliding; migration 0060):
-- agent_admissions numbers the agent's held drafts and agents.admitted is the last number.
-- Post number k is admitted when admission k - p_rate_count was more than p_rate_window ago.
-- 1. Before any write, without a lock: if the agent's admissions as read now already refuse
--    the post, it is refused. Admissions only grow, so a stale read can only err towards
--    admitting, never towards a wrong refusal.
-- 2. Then the draft, its revision and its audit event are written: the bulk of the work, with
--    no lock that other posts of the agent wait for.
-- 3. Last, the agent's row is locked and its number raised in one UPDATE (across all serve
--    processes), the check is made again on that committed number, and admission k is
--    recorded. From here to the commit is a few index operations, and the commit does not wait
--    for the disk (see "Durability").
--    If another post took the last slot meanwhile, this transaction fails with
--    serialization_failure and the caller runs it again, which then refuses in step 1.
-- So there are never more than p_rate_count drafts of one agent in any window, however many
-- processes race, and the check is one primary-key lookup whatever the limit.
--
-- A concurrent duplicate waits on the unique key and then answers with the first one's body.
CREATE OR REPLACE FUNCTION intake_hold(
    p_forum text, p_webhook_id text, p_draft_id uuid,
    p_agent_id text, p_agent_name text, p_invoker_id text, p_invoker_name text,
    p_topic_id text, p_reply_to_post_id text, p_category text, p_title text, p_body text,
    p_forum_ref text, p_context jsonb, p_flags jsonb, p_response text,
    p_rate_count integer, p_rate_window interval, p_ttl interval,
    p_topic_title text, p_topic_url text)
RETURNS TABLE (outcome text, response text, retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_existing text;
    v_engaged boolean;
    v_paused boolean;
    v_admitted bigint;
    v_oldest timestamptz;
    v_actor text := 'agent:' || p_agent_id;
    v_details jsonb := jsonb_build_object('webhook_id', p_webhook_id,
        'agent', jsonb_build_object('id', p_agent_id, 'name', p_agent_name),
        'invoker', jsonb_build_object('id', p_invoker_id, 'name', p_invoker_name));
    v_ignored text;
BEGIN
    -- Cost (tests/bench/intake.sh): every SQL statement here pays for an executor start and end,
    -- so what needs no table is an assignment (PL/pgSQL evaluates those without the executor)
    -- and the answer is returned with RETURN NEXT, not RETURN QUERY SELECT. An assignment still
    -- takes a fresh snapshot for the statements after it, as PERFORM did, so the reads that
    -- follow a lock see everything committed before the lock was granted.
    v_ignored := set_config('synchronous_commit', 'off', true); -- see "Durability" above
    SELECT d.intake_response INTO v_existing
        FROM drafts d WHERE d.forum = p_forum AND d.webhook_id = p_webhook_id;
    IF FOUND THEN
        outcome := 'duplicate'; response := v_existing; retry_after := NULL;
        RETURN NEXT;
        RETURN;
    END IF;

    v_ignored := pg_advisory_xact_lock_shared(lock_key('kill_switch'), 0);
    SELECT k.engaged INTO v_engaged FROM killswitch k;
    IF v_engaged THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "kill_switch_on"}');
        outcome := 'kill_switch_on'; response := NULL; retry_after := NULL;
        RETURN NEXT;
        RETURN;
    END IF;

    v_ignored := pg_advisory_xact_lock_shared(lock_key('agent'), hashtext(p_forum || '/' || p_agent_id));
    SELECT a.paused, a.admitted INTO v_paused, v_admitted FROM agents a
        WHERE a.forum = p_forum AND a.agent_id = p_agent_id;
    IF NOT FOUND THEN
        INSERT INTO agents (forum, agent_id, name) VALUES (p_forum, p_agent_id, p_agent_name)
            ON CONFLICT DO NOTHING;
        v_paused := false;
        v_admitted := 0;
    END IF;
    IF v_paused THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "agent_paused"}');
        outcome := 'agent_paused'; response := NULL; retry_after := NULL;
        RETURN NEXT;
        RETURN;
    END IF;

    -- 1. The limit as the agent's committed admissions say now.
    v_oldest := intake_rate_oldest(p_forum, p_agent_id, v_admitted, p_rate_count, p_rate_window);
    IF v_oldest IS NOT NULL THEN
        INSERT INTO audit_events (actor, action, forum, details)
            VALUES (v_actor, 'intake.refused', p_forum, v_details || '{"reason": "rate_limited"}');
        outcome := 'rate_limited'; response := NULL;
        retry_after := GREATEST(1, ceil(extract(epoch FROM v_oldest + p_rate_window - now())))::integer;
        RETURN NEXT;
        RETURN;
    END IF;

    -- 2. The post.
    INSERT INTO drafts (id, forum, webhook_id, agent_id, agent_name, invoker_id, invoker_name,
            topic_id, reply_to_post_id, category, forum_ref, context, flags, intake_response,
            expires_at, topic_title, topic_url)
        VALUES (p_draft_id, p_forum, p_webhook_id, p_agent_id, p_agent_name, p_invoker_id,
            p_invoker_name, p_topic_id, p_reply_to_post_id, p_category, p_forum_ref, p_context,
            p_flags, p_response, now() + p_ttl, p_topic_title, p_topic_url)
        ON CONFLICT (forum, webhook_id) DO NOTHING;
    IF NOT FOUND THEN
        SELECT d.intake_response INTO v_existing
            FROM drafts d WHERE d.forum = p_forum AND d.webhook_id = p_webhook_id;
        outcome := 'duplicate'; response := v_existing; retry_after := NULL;
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO draft_revisions (draft_id, revision, title, body, author_id, author_name)
        VALUES (p_draft_id, 1, p_title, p_body, p_agent_id, p_agent_name);
    INSERT INTO audit_events (actor, action, forum, draft_id, details)
        VALUES (v_actor, 'intake.held', p_forum, p_draft_id,
            v_details || jsonb_build_object('flags', jsonb_array_length(p_flags)));

    -- 3. The agent's turn: the UPDATE locks the agent's row (waiting for any other holder, then
    -- reading its committed number), counts this admission, and the check is made again on that
    -- number (admission v_admitted, the one before being v_admitted - 1).
    UPDATE agents SET admitted = admitted + 1 WHERE forum = p_forum AND agent_id = p_agent_id
        RETURNING admitted INTO v_admitted;
    IF intake_rate_oldest(p_forum, p_agent_id, v_admitted - 1, p_rate_count, p_rate_window)
            IS NOT NULL THEN
        RAISE EXCEPTION 'agent % took its last slot concurrently', p_agent_id
            USING ERRCODE = 'serialization_failure';
    END IF;
    INSERT INTO agent_admissions (agent_id, forum, seq, admitted_at)
        VALUES (p_agent_id, p_forum, v_admitted, now());
    outcome := 'held'; response := p_response; retry_after := NULL;
    RETURN NEXT;
END $$;
