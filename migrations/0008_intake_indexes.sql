-- On a fresh, never-analysed drafts table PostgreSQL planned intake_hold's duplicate check
-- (forum = $1 AND webhook_id = $2) as a scan of drafts_invoker_recent on `forum` alone, and
-- plpgsql kept that plan for the connection's life: every intake read all of a forum's
-- drafts until autovacuum analysed the table. Leading these indexes with the agent or invoker
-- leaves the unique (forum, webhook_id) index as the only one that matches that lookup. They
-- serve the same queries as before: the rate count (agent, forum, recent first) and a user's
-- list (invoker, forum, newest first).
DROP INDEX drafts_agent_recent;
CREATE INDEX drafts_agent_recent ON drafts (agent_id, forum, created_at);
DROP INDEX drafts_invoker_recent;
CREATE INDEX drafts_invoker_recent ON drafts (invoker_id, forum, created_at DESC);
