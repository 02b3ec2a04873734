-- Wakes delivery workers once the inserting transaction commits (NOTIFY is transactional).
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agentgate_outbox', '');
    RETURN NULL;
END $$;
