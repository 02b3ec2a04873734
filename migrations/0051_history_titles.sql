-- History at scale (issue 13). draft_search (one row per draft, kept by the trigger on
-- draft_revisions) gains two things:
--  - the current revision's title, also carried by its page-order index: until now an export
--    looked each title up in draft_revisions by (draft_id, revision), one random index probe
--    per row, which capped a full export at about 60,000 rows/s; now it reads drafts and titles
--    as two index ranges in the same order and merges them (history_open());
--  - the draft's state as one more lexeme of its text search vector, 'state <state>' (a
--    lexeme with a space, which no text and no search a user types can produce): a search
--    for words in drafts of one state is then one GIN lookup of both (history_search()), where
--    before it tested each word match against drafts, up to 300 ms a page at a million
--    drafts. A trigger on drafts keeps the lexeme in step with every state change, in the
--    changing transaction.
--
-- draft_search is rebuilt rather than altered: an UPDATE of every row would rewrite each
-- row's text search entries in the GIN index. Writers of revisions are held back (SHARE lock)
-- for the transaction so that no revision is missed between the copy and the swap. On a
-- large database this takes about half a minute per million drafts on two cores; the 15 s
-- statement timeout of agentgate's connections is lifted for this transaction only.
SET LOCAL statement_timeout = 0;
SET LOCAL client_min_messages = warning;
LOCK TABLE draft_revisions IN SHARE MODE;

CREATE TABLE draft_search_titled (
    draft_id uuid PRIMARY KEY REFERENCES drafts (id),
    forum text NOT NULL,
    created_at timestamptz NOT NULL,
    revision integer NOT NULL,
    title text,
    search tsvector NOT NULL
);
INSERT INTO draft_search_titled (draft_id, forum, created_at, revision, title, search)
SELECT s.draft_id, s.forum, s.created_at, s.revision, r.title,
    s.search || array_to_tsvector(ARRAY['state ' || d.state])
FROM draft_search s
JOIN draft_revisions r ON r.draft_id = s.draft_id AND r.revision = s.revision
JOIN drafts d ON d.id = s.draft_id
ORDER BY s.created_at, s.draft_id;
DROP TABLE draft_search;
ALTER TABLE draft_search_titled RENAME TO draft_search;
ALTER INDEX draft_search_titled_pkey RENAME TO draft_search_pkey;
ALTER TABLE draft_search RENAME CONSTRAINT draft_search_titled_draft_id_fkey
    TO draft_search_draft_id_fkey;
ALTER TABLE draft_search ALTER COLUMN search SET STATISTICS 1000;
-- Page order within a forum; INCLUDE (title) lets an export read titles from the index alone.
CREATE INDEX draft_search_recent ON draft_search (forum, created_at DESC, draft_id DESC)
    INCLUDE (title);
CREATE INDEX draft_search_text ON draft_search USING gin (search);
ANALYZE draft_search;

-- Every change of a draft's state moves its state lexeme (the function's current definition is
-- sql/history_search_state.sql; this first one lets the trigger exist before that set is
-- applied). Drafts hold the rows lock while they change state, so the two stay in step.
CREATE FUNCTION history_search_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE draft_search
        SET search = ts_delete(search, 'state ' || OLD.state)
            || array_to_tsvector(ARRAY['state ' || NEW.state])
        WHERE draft_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER drafts_search_state AFTER UPDATE OF state ON drafts
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION history_search_state();

-- history_sql() built one query for every shape; the page now runs one of several bounded
-- strategies (history_page(), history_search()) and the export its own (history_open()).
DROP FUNCTION history_sql(text, text, text, text, timestamptz, timestamptz, tsquery, timestamptz,
    integer, boolean);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT, UPDATE ON draft_search TO agentgate_app;
    END IF;
END $$;
