-- A new revision (intake's first, or an edit's) replaces its draft's search row: the title of
-- the draft's current revision and its text search vector, with the draft's state as one more
-- lexeme, 'state <state>' (see history_search_state()). Revisions only grow, so the newest one
-- is the draft's current one.
CREATE OR REPLACE FUNCTION draft_search_update() RETURNS trigger
LANGUAGE plpgsql
SET client_min_messages = warning AS $$
BEGIN
    INSERT INTO draft_search (draft_id, forum, created_at, revision, title, search)
        SELECT d.id, d.forum, d.created_at, NEW.revision, NEW.title,
            history_tsvector(NEW.title, NEW.body) || array_to_tsvector(ARRAY['state ' || d.state])
        FROM drafts d WHERE d.id = NEW.draft_id
        ON CONFLICT (draft_id) DO UPDATE SET revision = EXCLUDED.revision,
            title = EXCLUDED.title, search = EXCLUDED.search
        WHERE draft_search.revision < EXCLUDED.revision;
    RETURN NULL;
END $$;
