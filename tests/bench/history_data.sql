-- Bulk data for tests/bench/history.sh: :drafts drafts (with revisions) and :events audit
-- events, generated inside PostgreSQL with generate_series (no round trip per row) into a
-- migrated agentgate database. Run with psql -v drafts=N -v events=M -f history_data.sql.
-- Inserting the revisions fires 0005's trigger, which fills draft_search as intake would.
--
-- Shape (deterministic: setseed): two forums (eng 80 %, ops 20 %) over the last 365 days, newest
-- 3 days mostly pending; 300 agents and 20,000 invokers with skewed activity; states, deciders
-- and decision times like a live forum; 5 % of drafts edited once (revision 2); bodies of 20 to
-- 60 words from a 5,000-word vocabulary with a Zipf-like skew, so text searches range from very
-- common words to rare ones. Nothing is disabled: rows go through every index, trigger and
-- constraint the migrations created.
\set ON_ERROR_STOP on
SELECT setseed(0.42);
-- A bulk load: draft_search's GIN index gathers new entries in a pending list and merges it into
-- the index whenever it is full; a larger list for this session merges less often. Nothing is
-- skipped: history.sh runs VACUUM ANALYZE next, which flushes the list.
SET gin_pending_list_limit = '256MB';

CREATE UNLOGGED TABLE bench_words AS
    SELECT n, CASE WHEN n <= 40 THEN (ARRAY['the', 'restart', 'worker', 'error', 'deploy',
        'ingest', 'queue', 'timeout', 'disk', 'memory', 'config', 'release', 'database', 'index',
        'cache', 'network', 'latency', 'retry', 'backup', 'token', 'service', 'cluster', 'node',
        'upgrade', 'rollback', 'metrics', 'alert', 'build', 'pipeline', 'test', 'schema',
        'migration', 'replica', 'failover', 'proxy', 'certificate', 'kernel', 'thread', 'socket',
        'shard'])[n] ELSE 'term' || n END AS word
    FROM generate_series(1, 5000) n;
CREATE UNLOGGED TABLE bench_bodies AS
    SELECT b.n, (SELECT string_agg(v.words[1 + floor(4999 * power(random(), 4))::int + k * 0], ' ')
            FROM generate_series(1, 20 + (b.n * 7) % 41) k) AS body
    FROM generate_series(0, 19999) b(n),
        (SELECT array_agg(word ORDER BY n) AS words FROM bench_words) v;
CREATE UNLOGGED TABLE bench_titles AS
    SELECT t.n, initcap((SELECT string_agg(v.words[1 + floor(4999 * power(random(), 3))::int + k * 0], ' ')
            FROM generate_series(1, 3 + t.n % 6) k)) AS title
    FROM generate_series(0, 4999) t(n),
        (SELECT array_agg(word ORDER BY n) AS words FROM bench_words) v;

CREATE UNLOGGED TABLE bench_gen AS
    SELECT i, gen_random_uuid() AS id,
        CASE WHEN random() < 0.8 THEN 'eng' ELSE 'ops' END AS forum,
        now() - interval '365 days' * (1 - i::float8 / :drafts) - random() * interval '30 s'
            AS created_at,
        floor(300 * power(random(), 2))::int AS agent,
        floor(20000 * power(random(), 1.5))::int AS invoker,
        random() AS r_state, random() AS r_time, random() AS r_who, random() AS r_kind,
        random() AS r_flags, random() < 0.05 AS edited
    FROM generate_series(1, :drafts) i;

INSERT INTO drafts (id, forum, webhook_id, agent_id, agent_name, invoker_id, invoker_name,
        topic_id, reply_to_post_id, category, flags, state, revision, intake_response,
        created_at, updated_at, expires_at, decided_at, decided_by_id, decided_by_name,
        decision_reason, post_id, post_url)
SELECT g.id, g.forum, 'bench-' || g.i, 'agent-' || g.agent, 'Agent ' || g.agent,
    (1000 + g.invoker)::text, 'user' || g.invoker,
    CASE WHEN g.r_kind < 0.7 THEN (g.i % 100000)::text END,
    CASE WHEN g.r_kind < 0.4 THEN (g.i % 1000000)::text END,
    CASE WHEN g.r_kind >= 0.7 THEN (ARRAY['infra', 'help', 'releases', 'security'])[1 + g.i % 4] END,
    CASE WHEN g.r_flags < 0.90 THEN '[]'::jsonb
         WHEN g.r_flags < 0.98 THEN '[{"code": "pii.email", "severity": "warning", "field": "body", "start": 0, "end": 5}]'::jsonb
         ELSE '[{"code": "secret.aws_access_key", "severity": "critical", "field": "body", "start": 0, "end": 5}, {"code": "destructive.rm_rf", "severity": "warning", "field": "body", "start": 6, "end": 9}]'::jsonb END,
    s.state, CASE WHEN g.edited THEN 2 ELSE 1 END, '{"status":"held"}',
    g.created_at, g.created_at, g.created_at + interval '72 hours',
    CASE WHEN s.state = 'pending' THEN NULL
         WHEN s.state = 'expired' THEN least(now(), g.created_at + interval '72 hours')
         ELSE least(now(), g.created_at + power(g.r_time, 2) * interval '48 hours') END,
    CASE WHEN s.state IN ('pending', 'expired') THEN NULL
         WHEN s.state = 'revoked' THEN 'mod-' || (g.i % 20)
         WHEN g.r_who < 0.9 THEN (1000 + g.invoker)::text
         ELSE (1000 + (g.invoker + 1) % 20000)::text END,
    CASE WHEN s.state IN ('pending', 'expired') THEN NULL
         WHEN s.state = 'revoked' THEN 'moderator' || (g.i % 20)
         WHEN g.r_who < 0.9 THEN 'user' || g.invoker
         ELSE 'user' || ((g.invoker + 1) % 20000) END,
    CASE WHEN s.state IN ('rejected', 'revoked') THEN 'not appropriate' END,
    CASE WHEN s.state = 'released' THEN g.i::text END,
    CASE WHEN s.state = 'released' THEN 'https://forum.example/p/' || g.i END
FROM bench_gen g
CROSS JOIN LATERAL (SELECT CASE
        WHEN g.created_at > now() - interval '3 days' AND g.r_state < 0.7 THEN 'pending'
        WHEN g.r_state < 0.62 THEN 'released'
        WHEN g.r_state < 0.76 THEN 'rejected'
        WHEN g.r_state < 0.85 THEN 'expired'
        WHEN g.r_state < 0.89 THEN 'revoked'
        WHEN g.r_state < 0.90 THEN 'approved'
        WHEN g.r_state < 0.91 THEN 'release_failed'
        ELSE 'released' END AS state) s
ORDER BY g.i;

INSERT INTO draft_revisions (draft_id, revision, title, body, author_id, author_name, created_at)
SELECT g.id, v.revision,
    CASE WHEN g.r_kind >= 0.7 THEN t.title END,
    b.body, CASE WHEN v.revision = 1 THEN 'agent-' || g.agent ELSE (1000 + g.invoker)::text END,
    CASE WHEN v.revision = 1 THEN 'Agent ' || g.agent ELSE 'user' || g.invoker END,
    g.created_at + (v.revision - 1) * interval '5 minutes'
FROM bench_gen g
CROSS JOIN LATERAL (SELECT 1 AS revision UNION ALL SELECT 2 WHERE g.edited) v
JOIN bench_bodies b ON b.n = (g.i::bigint * 7919 + v.revision * 13) % 20000
JOIN bench_titles t ON t.n = (g.i::bigint * 104729) % 5000
ORDER BY g.i, v.revision;

-- :events audit events spread over the drafts, in time order.
INSERT INTO audit_events (occurred_at, actor, action, forum, draft_id, details)
SELECT g.created_at + k * interval '1 minute',
    CASE WHEN k = 1 THEN 'agent:agent-' || g.agent ELSE 'user:' || (1000 + g.invoker) END,
    (ARRAY['intake.held', 'draft.view', 'draft.edit', 'draft.approve', 'delivery.attempt',
        'draft.release'])[1 + (k - 1) % 6],
    g.forum, g.id, jsonb_build_object('bench', true, 'k', k)
FROM bench_gen g
CROSS JOIN generate_series(1, greatest(1, ceil(:events::float8 / :drafts)::int)) k
WHERE (g.i - 1) * ceil(:events::float8 / :drafts)::int + k <= :events
ORDER BY g.i, k;

DROP TABLE bench_gen, bench_bodies, bench_titles, bench_words;
