-- History (CONTRACT §7): what /history, /history.csv and /history.ndjson need. Full text search
-- over each draft's current revision (draft_search), the indexes that keep a newest-first keyset
-- page fast under every filter at millions of drafts, and the functions that run the filtered
-- query.
--
-- Invariants: no value ever becomes SQL text. history_sql() picks fixed fragments by which
-- filters are present (never by what they contain) and every value reaches the query as a
-- parameter ($1..$11 below, always passed in the same order). Pages are keyset-paginated on
-- (created_at, id), newest first; there is no OFFSET. Nothing here touches audit_events, and
-- nothing depends on migrations after 0003: the agent id and invoker id filters use 0001's
-- drafts_agent_recent and drafts_invoker_recent, which 0008 rebuilds with the id first; both
-- column orders serve them.

-- On a large database this migration fills draft_search and builds indexes for a while (about
-- two minutes per million drafts on two cores), holding back new revisions (and so intake) until
-- it commits. The 15 s statement timeout of agentgate's connections is lifted for this
-- transaction only, and PostgreSQL's notices about words too long to index are not printed.
SET LOCAL statement_timeout = 0;
SET LOCAL client_min_messages = warning;

-- Full text over a revision's title and body with the 'simple' configuration: no stemming and
-- no stop words, so a word of any language is found as written. Capped at the first 100,000
-- characters so a tsvector stays far below its 1 MB limit whatever max_body_bytes allows;
-- words longer than 2047 characters are skipped by PostgreSQL.
CREATE FUNCTION history_tsvector(p_title text, p_body text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_tsvector('simple'::regconfig, left(coalesce(p_title, '') || ' ' || p_body, 100000))
$$;

-- What text search reads: one narrow row per draft with the draft's forum and creation time
-- (both never change) and the tsvector of its current revision. A search walks this table in
-- page order (it was written in that order, so the walk is nearly sequential) or, for a rare
-- word, starts from the GIN index; either way drafts is joined only for the rows it returns.
-- Kept by the trigger below in the transaction that adds the revision. The statistics target
-- is raised so the planner knows thousands of common words and estimates the rest as rare.
CREATE TABLE draft_search (
    draft_id uuid PRIMARY KEY REFERENCES drafts (id),
    forum text NOT NULL,
    created_at timestamptz NOT NULL,
    revision integer NOT NULL,
    search tsvector NOT NULL
);
ALTER TABLE draft_search ALTER COLUMN search SET STATISTICS 1000;

-- A new revision (intake's first, or an edit's) replaces its draft's search row. Revisions only
-- grow, so the newest one is the draft's current one.
CREATE FUNCTION draft_search_update() RETURNS trigger
LANGUAGE plpgsql
SET client_min_messages = warning AS $$
BEGIN
    INSERT INTO draft_search (draft_id, forum, created_at, revision, search)
        SELECT d.id, d.forum, d.created_at, NEW.revision, history_tsvector(NEW.title, NEW.body)
        FROM drafts d WHERE d.id = NEW.draft_id
        ON CONFLICT (draft_id) DO UPDATE SET revision = EXCLUDED.revision,
            search = EXCLUDED.search
        WHERE draft_search.revision < EXCLUDED.revision;
    RETURN NULL;
END $$;
-- Created before the backfill: it locks draft_revisions against new rows until this migration
-- commits, so no revision is missed between the two.
CREATE TRIGGER draft_revisions_search AFTER INSERT ON draft_revisions
    FOR EACH ROW EXECUTE FUNCTION draft_search_update();

INSERT INTO draft_search (draft_id, forum, created_at, revision, search)
SELECT d.id, d.forum, d.created_at, d.revision, history_tsvector(r.title, r.body)
FROM drafts d JOIN draft_revisions r ON r.draft_id = d.id AND r.revision = d.revision
ORDER BY d.created_at, d.id;
CREATE INDEX draft_search_recent ON draft_search (forum, created_at DESC, draft_id DESC);
CREATE INDEX draft_search_text ON draft_search USING gin (search);
ANALYZE draft_search;

-- Index design. No index here leads with `forum` alone: 0008 found that on a never-analysed
-- drafts table such an index can win intake's duplicate check (forum = $1 AND webhook_id = $2)
-- and stay in its cached plan. Partial indexes cannot be chosen for that lookup at all.
--
-- Newest first, unfiltered or by time range: the keyset condition (created_at, id) < (cursor)
-- is a range on this index and `forum` is checked inside the index, without reading the table.
CREATE INDEX drafts_history_recent ON drafts (created_at DESC, id DESC, forum);
-- One per equality filter, equality columns first and the page order last, so a page is the
-- first 51 entries of one index range. The agent id and invoker id filters use
-- drafts_agent_recent and drafts_invoker_recent (a rare tie on created_at is then ordered by an
-- incremental sort on id).
CREATE INDEX drafts_history_state ON drafts (state, forum, created_at DESC, id DESC);
CREATE INDEX drafts_history_agent_name ON drafts (agent_name, forum, created_at DESC, id DESC);
CREATE INDEX drafts_history_invoker_name ON drafts (invoker_name, forum, created_at DESC, id DESC);
CREATE INDEX drafts_history_decider_id ON drafts (decided_by_id, forum, created_at DESC, id DESC)
    WHERE decided_by_id IS NOT NULL;
CREATE INDEX drafts_history_decider_name ON drafts (decided_by_name, forum, created_at DESC, id DESC)
    WHERE decided_by_name IS NOT NULL;
-- Decisions per day and time to decision, for the chart (a range of decided_at).
CREATE INDEX drafts_history_decided ON drafts (forum, decided_at) WHERE decided_at IS NOT NULL;

-- Which column an "id or name" filter value matches in a forum: 'id', 'name', 'both' (say an
-- agent whose name is another agent's id), or 'id' when it matches nothing (the page is then
-- empty at once). Each probe is one index lookup, run in the same snapshot as the query.
CREATE FUNCTION history_match(p_by_id boolean, p_by_name boolean)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_by_id AND p_by_name THEN 'both' WHEN p_by_name THEN 'name' ELSE 'id' END
$$;

CREATE FUNCTION history_modes(p_forum text, p_agent text, p_invoker text, p_decider text,
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

-- `p_text` with the secret spans that `p_flags` (a draft's flags) marks in `p_field` masked as
-- the draft page masks them: the first 4 bytes kept, every later byte of the span replaced by
-- '*', widened to whole UTF-8 characters. Spans running past the end of `p_text` (an excerpt)
-- are cut there.
CREATE FUNCTION history_masked(p_text text, p_flags jsonb, p_field text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_bytes bytea;
    v_flag jsonb;
    v_start integer;
    v_end integer;
BEGIN
    IF p_text IS NULL OR jsonb_typeof(p_flags) IS DISTINCT FROM 'array' THEN
        RETURN p_text;
    END IF;
    v_bytes := convert_to(p_text, 'UTF8');
    FOR v_flag IN SELECT f.value FROM jsonb_array_elements(p_flags) f LOOP
        CONTINUE WHEN v_flag->>'field' IS DISTINCT FROM p_field
            OR coalesce(v_flag->>'code', '') NOT LIKE 'secret.%'
            OR jsonb_typeof(v_flag->'start') IS DISTINCT FROM 'number'
            OR jsonb_typeof(v_flag->'end') IS DISTINCT FROM 'number'
            OR (v_flag->>'end')::numeric - (v_flag->>'start')::numeric <= 4;
        v_start := greatest(0, least((v_flag->>'start')::numeric + 4, length(v_bytes)))::integer;
        v_end := greatest(0, least((v_flag->>'end')::numeric, length(v_bytes)))::integer;
        WHILE v_start > 0 AND v_start < length(v_bytes)
                AND get_byte(v_bytes, v_start) BETWEEN 128 AND 191 LOOP
            v_start := v_start - 1;
        END LOOP;
        WHILE v_end < length(v_bytes) AND get_byte(v_bytes, v_end) BETWEEN 128 AND 191 LOOP
            v_end := v_end + 1;
        END LOOP;
        FOR v_i IN v_start .. v_end - 1 LOOP
            v_bytes := set_byte(v_bytes, v_i, 42);
        END LOOP;
    END LOOP;
    RETURN convert_from(v_bytes, 'UTF8');
END $$;

-- The filtered history query, as text built only from the fixed fragments below. Parameters,
-- in this order, are bound by the callers: $1 forum, $2 state, $3 agent (id or name), $4 invoker
-- (id or name), $5 decider (id or name), $6 from (inclusive), $7 to (exclusive), $8 text query
-- (tsquery), $9 and $10 the cursor (created_at, id) of the last row already shown, $11 the row
-- limit. The arguments only say which filters are present and, for an "id or name" filter,
-- which column it matches (history_modes()); values are never looked at here.
--
-- Drafts are filtered, ordered and limited first (one index range in page order: see the index
-- design above), and only then is each one's current revision looked up for the title, so a page
-- reads 51 revisions whatever the filter. The lookup is a LATERAL subquery with LIMIT 1 so that
-- PostgreSQL cannot turn it into a hash join that sorts every row before the first one leaves:
-- an export streams from its first row, with no temporary files, however many rows follow.
-- With a text query, forum, time range, cursor and order are taken from draft_search (the same
-- values as the draft's), so the planner can walk draft_search_recent in page order or start
-- from the GIN index, and join drafts by id only. Titles and excerpts leave masked
-- (history_masked()).
CREATE FUNCTION history_sql(p_state text, p_agent_mode text, p_invoker_mode text,
    p_decider_mode text, p_from timestamptz, p_to timestamptz, p_query tsquery,
    p_after_at timestamptz, p_limit integer, p_excerpt boolean)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    -- forum, time, cursor and order come from draft_search when searching (one row per draft,
    -- with the draft's forum and created_at), else from drafts
    v_t text := CASE WHEN p_query IS NOT NULL THEN 's' ELSE 'd' END;
    v_id text := CASE WHEN p_query IS NOT NULL THEN 's.draft_id' ELSE 'd.id' END;
    v_where text;
BEGIN
    v_where := v_t || '.forum = $1';
    IF p_query IS NOT NULL THEN
        v_where := v_where || ' AND s.search @@ $8';
    END IF;
    IF p_state IS NOT NULL THEN
        v_where := v_where || ' AND d.state = $2';
    END IF;
    v_where := v_where || CASE p_agent_mode
        WHEN 'id' THEN ' AND d.agent_id = $3'
        WHEN 'name' THEN ' AND d.agent_name = $3'
        WHEN 'both' THEN ' AND (d.agent_id = $3 OR d.agent_name = $3)'
        ELSE '' END;
    v_where := v_where || CASE p_invoker_mode
        WHEN 'id' THEN ' AND d.invoker_id = $4'
        WHEN 'name' THEN ' AND d.invoker_name = $4'
        WHEN 'both' THEN ' AND (d.invoker_id = $4 OR d.invoker_name = $4)'
        ELSE '' END;
    v_where := v_where || CASE p_decider_mode
        WHEN 'id' THEN ' AND d.decided_by_id = $5'
        WHEN 'name' THEN ' AND d.decided_by_name = $5'
        WHEN 'both' THEN ' AND (d.decided_by_id = $5 OR d.decided_by_name = $5)'
        ELSE '' END;
    IF p_from IS NOT NULL THEN
        v_where := v_where || ' AND ' || v_t || '.created_at >= $6';
    END IF;
    IF p_to IS NOT NULL THEN
        v_where := v_where || ' AND ' || v_t || '.created_at < $7';
    END IF;
    IF p_after_at IS NOT NULL THEN
        v_where := v_where || ' AND (' || v_t || '.created_at, ' || v_id || ') < ($9, $10)';
    END IF;

    RETURN 'SELECT h.id, h.forum, h.state, h.created_at, h.decided_at, h.agent_id, h.agent_name,'
        ' h.invoker_id, h.invoker_name, h.decided_by_name, h.decided_by_id, h.topic_id,'
        ' h.category, CASE WHEN r.title IS NULL OR NOT h.flags @> ''[{"field": "title"}]'''
        ' THEN r.title ELSE history_masked(r.title, h.flags, ''title'') END AS title,'
        ' jsonb_array_length(h.flags) AS flags, h.post_url,'
        ' extract(epoch FROM date_trunc(''second'', h.created_at))::bigint * 1000000'
        ' + extract(microseconds FROM h.created_at)::bigint % 1000000 AS created_us'
        || CASE WHEN p_excerpt THEN ', CASE WHEN NOT h.flags @> ''[{"field": "body"}]'''
            ' THEN left(r.body, 160) ELSE history_masked(left(r.body, 160), h.flags, ''body'')'
            ' END AS excerpt' ELSE '' END
        || ' FROM (SELECT d.id, d.forum, d.state, d.revision, d.created_at, d.decided_at,'
        ' d.agent_id, d.agent_name, d.invoker_id, d.invoker_name, d.decided_by_id,'
        ' d.decided_by_name, d.topic_id, d.category, d.flags, d.post_url FROM '
        || CASE WHEN p_query IS NOT NULL THEN 'draft_search s JOIN drafts d ON d.id = s.draft_id'
            ELSE 'drafts d' END
        || ' WHERE ' || v_where
        || ' ORDER BY ' || v_t || '.created_at DESC, ' || v_id || ' DESC'
        || CASE WHEN p_limit IS NOT NULL THEN ' LIMIT $11' ELSE '' END
        || ') h CROSS JOIN LATERAL (SELECT r.title, r.body FROM draft_revisions r'
        || ' WHERE r.draft_id = h.id AND r.revision = h.revision LIMIT 1) r'
        || ' ORDER BY h.created_at DESC, h.id DESC';
END $$;

-- One page of history as a JSON array text (times as ISO 8601 UTC, each row's cursor as
-- "created_us:id"). p_q is the user's search text in websearch syntax; it becomes a tsquery
-- here, never SQL. Notices (a search without words) are not sent to the client.
CREATE FUNCTION history_page(p_forum text, p_state text, p_agent text, p_invoker text,
    p_decider text, p_from timestamptz, p_to timestamptz, p_q text, p_after_at timestamptz,
    p_after_id uuid, p_limit integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET client_min_messages = warning AS $$
DECLARE
    v_query tsquery := CASE WHEN p_q IS NOT NULL THEN websearch_to_tsquery('simple', p_q) END;
    v_modes record;
    v_after_at timestamptz := p_after_at;
    v_result text;
BEGIN
    v_modes := history_modes(p_forum, p_agent, p_invoker, p_decider);
    -- A cursor at or after `to` excludes nothing more, and a btree positions on the row bound
    -- rather than on the tighter `to`: leave the cursor out then.
    IF p_to IS NOT NULL AND p_to <= p_after_at THEN
        v_after_at := NULL;
    END IF;
    EXECUTE 'SELECT coalesce(json_agg(json_build_object('
        '''id'', p.id, ''forum'', p.forum, ''state'', p.state,'
        ' ''created_at'', to_char(p.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''),'
        ' ''decided_at'', to_char(p.decided_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"''),'
        ' ''agent_id'', p.agent_id, ''agent_name'', p.agent_name,'
        ' ''invoker_id'', p.invoker_id, ''invoker_name'', p.invoker_name,'
        ' ''decided_by'', p.decided_by_name, ''decided_by_id'', p.decided_by_id,'
        ' ''topic_id'', p.topic_id, ''category'', p.category, ''title'', p.title,'
        ' ''excerpt'', p.excerpt, ''flags_count'', p.flags, ''post_url'', p.post_url,'
        ' ''cursor'', p.created_us::text || '':'' || p.id::text)'
        ' ORDER BY p.created_at DESC, p.id DESC), ''[]'')::text FROM ('
        || history_sql(p_state, v_modes.agent_mode, v_modes.invoker_mode, v_modes.decider_mode,
            p_from, p_to, v_query, v_after_at, p_limit, true)
        || ') p'
        INTO v_result
        USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query, p_after_at,
            p_after_id, p_limit;
    RETURN v_result;
END $$;

-- Opens cursor p_cursor over every matching row, newest first, for an export that FETCHes it in
-- batches inside the caller's transaction: nothing is materialised. Its columns are the
-- export's, in order: draft_id, forum, state, created_at, decided_at (ISO 8601 UTC text),
-- agent_id, agent_name, invoker_id, invoker_name, decided_by, topic_id, category, title, flags
-- (the number of flags, an integer), post_url.
CREATE FUNCTION history_open(p_cursor refcursor, p_forum text, p_state text, p_agent text,
    p_invoker text, p_decider text, p_from timestamptz, p_to timestamptz, p_q text)
RETURNS refcursor
LANGUAGE plpgsql STABLE
SET client_min_messages = warning AS $$
DECLARE
    v_query tsquery := CASE WHEN p_q IS NOT NULL THEN websearch_to_tsquery('simple', p_q) END;
    v_modes record;
BEGIN
    v_modes := history_modes(p_forum, p_agent, p_invoker, p_decider);
    OPEN p_cursor NO SCROLL FOR EXECUTE
        'SELECT p.id AS draft_id, p.forum, p.state,'
        ' to_char(p.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"'') AS created_at,'
        ' to_char(p.decided_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS"Z"'') AS decided_at,'
        ' p.agent_id, p.agent_name, p.invoker_id, p.invoker_name, p.decided_by_name AS decided_by,'
        ' p.topic_id, p.category, p.title, p.flags, p.post_url FROM ('
        || history_sql(p_state, v_modes.agent_mode, v_modes.invoker_mode, v_modes.decider_mode,
            p_from, p_to, v_query, NULL, NULL, false)
        || ') p ORDER BY p.created_at DESC, p.id DESC'
        USING p_forum, p_state, p_agent, p_invoker, p_decider, p_from, p_to, v_query,
            NULL::timestamptz, NULL::uuid, NULL::integer;
    RETURN p_cursor;
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT, UPDATE ON draft_search TO agentgate_app;
        GRANT EXECUTE ON FUNCTION history_tsvector, draft_search_update, history_match,
            history_modes, history_masked, history_sql, history_page, history_open
            TO agentgate_app;
    END IF;
END $$;
