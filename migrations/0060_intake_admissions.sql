-- Per-agent rate limits without a lock held across the commit flush (sql/intake_hold.sql says
-- how the limit is decided now).
--
-- agents.admitted counts the drafts ever held for the agent; drafts.agent_seq numbers them
-- 1, 2, 3... per (forum, agent). A post is admitted as number k when draft k - N (N = the
-- limit) is older than the window: one indexed lookup instead of counting the window's drafts,
-- whatever the limit. drafts_agent_seq replaces drafts_agent_recent, which served only the old
-- count; it leads with agent_id for the reason 0008 gives.
ALTER TABLE agents ADD COLUMN admitted bigint NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN agent_seq bigint;

-- Existing drafts are numbered in the order they were held, and each agent's count set, so a
-- limit holds across the upgrade.
UPDATE drafts d SET agent_seq = n.seq
    FROM (SELECT id, row_number() OVER (PARTITION BY forum, agent_id ORDER BY created_at, id) AS seq
          FROM drafts) n
    WHERE d.id = n.id;
UPDATE agents a SET admitted = c.admitted
    FROM (SELECT forum, agent_id, count(*) AS admitted FROM drafts GROUP BY forum, agent_id) c
    WHERE a.forum = c.forum AND a.agent_id = c.agent_id;

DROP INDEX drafts_agent_recent;
CREATE UNIQUE INDEX drafts_agent_seq ON drafts (agent_id, forum, agent_seq);
