-- A new revision (intake's first, or an edit's) replaces its draft's search row: the title of
-- the draft's current revision and its text search vector, with the draft's state as one more
-- lexeme, 'state <state>' (see history_search_state()). Revisions only grow, so the newest one
-- is the draft's current one.
--
-- A first revision is written in its draft's own transaction (intake_hold), so its draft has no
-- search row yet: a plain INSERT, without the upsert's speculative insertion (an extra index
-- probe and WAL record on every intake).
CREATE OR REPLACE FUNCTION draft_search_update() RETURNS trigger
LANGUAGE plpgsql
SET client_min_messages = warning AS $$
BEGIN
    IF NEW.revision = 1 THEN
        INSERT INTO draft_search (draft_id, forum, created_at, revision, title, search)
            SELECT d.id, d.forum, d.created_at, NEW.revision, NEW.title,
                history_tsvector(NEW.title, NEW.body) || array_to_tsvector(ARRAY['state ' || d.state])
            FROM drafts d WHERE d.id = NEW.draft_id;
        RETURN NULL;
    END IF;
    INSERT INTO draft_search (draft_id, forum, created_at, revision, title, search)
        SELECT d.id, d.forum, d.created_at, NEW.revision, NEW.title,
            history_tsvector(NEW.title, NEW.body) || array_to_tsvector(ARRAY['state ' || d.state])
        FROM drafts d WHERE d.id = NEW.draft_id
        ON CONFLICT (draft_id) DO UPDATE SET revision = EXCLUDED.revision,
            title = EXCLUDED.title, search = EXCLUDED.search
        WHERE draft_search.revision < EXCLUDED.revision;
    RETURN NULL;
END $$;
