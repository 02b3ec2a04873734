-- Claims the next due event whose draft has no earlier event still queued (events of one
-- draft go out in order), locking it for this transaction; other processes skip it.
CREATE OR REPLACE FUNCTION outbox_claim()
RETURNS SETOF outbox
LANGUAGE sql AS $$
    SELECT o.* FROM outbox o
        WHERE o.due_at <= now()
          AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.draft_id = o.draft_id AND p.id < o.id)
        ORDER BY o.due_at, o.id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
$$;
