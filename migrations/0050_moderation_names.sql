-- Moderators' pages name people beside their ids (CONTRACT §7: "people's names, not only
-- ids"): who turned the kill switch and who paused an agent are kept with the name they had
-- then, as drafts keep decided_by_name. The actor columns keep the audit form (`user:<id>` or
-- `cli:<unix user>`); the name is NULL for CLI actors and for rows written before this.
-- killswitch_set() and agent_set_paused() take the actor's name, so their old signatures go
-- (sql/killswitch_set.sql and sql/agent_set_paused.sql define the new ones).
ALTER TABLE killswitch ADD COLUMN changed_by_name text;
ALTER TABLE agents ADD COLUMN paused_by_name text;
DROP FUNCTION killswitch_set(boolean, text, text);
DROP FUNCTION agent_set_paused(text, text, boolean, text, text, boolean);
