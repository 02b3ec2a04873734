-- /audit lists events newest first by (occurred_at, id), 50 a page with a keyset cursor, under
-- optional filters: actor, action, draft, time range (sql/audit_page.sql). Each of these indexes
-- serves one filter in that order, so that a page reads about as many index entries as it shows
-- whatever the table's size: the time range alone, an actor, an action. A draft's events come
-- from audit_events_draft (draft_id, id) and are few enough to sort.
CREATE INDEX audit_events_time ON audit_events (occurred_at, id);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at, id);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at, id);
