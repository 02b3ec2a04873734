-- Per-agent rate limits without a lock held across the commit flush (sql/intake_hold.sql says
-- how the limit is decided now).
--
-- agents.admitted counts the drafts held for the agent from now on; drafts.agent_seq numbers
-- them 1, 2, 3... per (forum, agent). A post is admitted as number k when draft k - N (N = the
-- limit) is older than the window: one indexed lookup instead of counting the window's drafts,
-- whatever the limit. Drafts held before this migration keep agent_seq NULL and are counted the
-- old way while an agent has fewer than N numbered ones (they are all older than any numbered
-- one), so the limit holds across the upgrade without rewriting every draft here.
-- drafts_agent_seq replaces drafts_agent_recent, which served only the old count; it leads
-- with agent_id for the reason 0008 gives. drafts_agent_unnumbered keeps the old index for the
-- drafts held before, and only for them: new drafts are numbered, so it never grows.
SET LOCAL statement_timeout = 0; -- building the index reads the whole table

ALTER TABLE agents ADD COLUMN admitted bigint NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN agent_seq bigint;
DROP INDEX drafts_agent_recent;
CREATE UNIQUE INDEX drafts_agent_seq ON drafts (agent_id, forum, agent_seq);
CREATE INDEX drafts_agent_unnumbered ON drafts (agent_id, forum, created_at) WHERE agent_seq IS NULL;
