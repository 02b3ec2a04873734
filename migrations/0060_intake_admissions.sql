-- Per-agent rate limits without a lock held across the commit flush, and without counting the
-- window's drafts (sql/intake_hold.sql says how the limit is decided now).
--
-- agent_admissions numbers each agent's held drafts 1, 2, 3... with the time each was held;
-- agents.admitted is the agent's last number. A post is admitted as number k when admission
-- k - N (N = the limit) is older than the window: one primary-key lookup whatever the limit,
-- and the agent's row lock is needed only for that lookup and one narrow insert at the very end
-- of the intake transaction.
--
-- The drafts held so far are numbered here, in the order they were held, so limits hold across
-- the upgrade. This reads drafts once and writes one narrow row per draft; drafts itself is not
-- rewritten.
SET LOCAL statement_timeout = 0; -- numbering reads the whole table

ALTER TABLE agents ADD COLUMN admitted bigint NOT NULL DEFAULT 0;
CREATE TABLE agent_admissions (
    agent_id text NOT NULL,
    forum text NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 1),
    admitted_at timestamptz NOT NULL,
    PRIMARY KEY (agent_id, forum, seq)
);
INSERT INTO agent_admissions (agent_id, forum, seq, admitted_at)
    SELECT agent_id, forum,
        row_number() OVER (PARTITION BY agent_id, forum ORDER BY created_at, id), created_at
    FROM drafts;
UPDATE agents a SET admitted = n.admitted
    FROM (SELECT agent_id, forum, max(seq) AS admitted FROM agent_admissions
          GROUP BY agent_id, forum) n
    WHERE a.agent_id = n.agent_id AND a.forum = n.forum;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT ON agent_admissions TO agentgate_app;
    END IF;
END $$;
