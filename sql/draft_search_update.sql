-- A new revision (intake's first, or an edit's) replaces its draft's search row. Revisions only
-- grow, so the newest one is the draft's current one.
CREATE OR REPLACE FUNCTION draft_search_update() RETURNS trigger
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
