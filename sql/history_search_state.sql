-- Trigger on drafts: a draft's state is a lexeme of its text search vector, 'state <state>'
-- (migration 0051), so that words and a state are found in one GIN lookup; every change of
-- state moves it, in the transaction that changes the state.
CREATE OR REPLACE FUNCTION history_search_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE draft_search
        SET search = ts_delete(search, 'state ' || OLD.state)
            || array_to_tsvector(ARRAY['state ' || NEW.state])
        WHERE draft_id = NEW.id;
    RETURN NULL;
END $$;
